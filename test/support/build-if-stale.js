'use strict';
/**
 * Jest's global setup: the tests run the built node (dist/), as n8n does. When a source is newer than the
 * build (or there is none), build first; otherwise jest starts at once. `npm test` builds and lints anyway.
 */
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '../..');

function newestChange(directory) {
	let newest = 0;
	for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
		const full = path.join(directory, entry.name);
		newest = Math.max(newest, entry.isDirectory() ? newestChange(full) : fs.statSync(full).mtimeMs);
	}
	return newest;
}

module.exports = async () => {
	const built = path.join(root, 'dist/nodes/DingTalkRecallMessage/DingTalkRecallMessage.node.js');
	const sources = Math.max(...['credentials', 'nodes'].map((folder) => newestChange(path.join(root, folder))), fs.statSync(path.join(root, 'tsconfig.json')).mtimeMs);
	if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= sources) return;
	console.log('\ndist/ is older than the sources: building first (npm run build)');
	execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
};
