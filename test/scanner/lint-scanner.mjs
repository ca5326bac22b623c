// `npm run lint:scanner`: what n8n's community-package scanner would say. Lints the sources, then the
// JavaScript and package.json of the packed tarball (what users install), with the scanner's rule sets
// and inline disables not honoured. Exits non-zero on any error or warning.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

import projectConfig, { scannerConfig } from '../../eslint.config.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function lint(cwd, config, patterns) {
	const eslint = new ESLint({ cwd, overrideConfigFile: true, overrideConfig: config, allowInlineConfig: false });
	const results = await eslint.lintFiles(patterns);
	const formatter = await eslint.loadFormatter('stylish');
	const problems = results.reduce((sum, r) => sum + r.errorCount + r.warningCount, 0);
	const files = results.length;
	return { problems, files, text: await formatter.format(results) };
}

const work = mkdtempSync(path.join(tmpdir(), 'dingtalk-recall-scan-'));
let failed = false;
try {
	const sources = await lint(root, projectConfig, ['nodes', 'credentials', 'package.json']);
	console.log(`sources: ${sources.files} files, ${sources.problems} problems`);
	if (sources.problems) console.log(sources.text);

	execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
	const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
	execFileSync('tar', ['-xzf', path.join(work, tarball), '-C', work]);
	const packed = await lint(
		path.join(work, 'package'),
		[
			...scannerConfig({ credentials: ['dist/credentials/**/*.js'], nodes: ['dist/nodes/**/*.js'] }),
			// The rule asks for the `.node.ts` source name; a packed package can only hold the built `.node.js`.
			{ files: ['dist/**/*.js'], rules: { 'n8n-nodes-base/node-filename-against-convention': 'off' } },
		],
		['dist/**/*.js', 'package.json'],
	);
	console.log(`packed ${tarball}: ${packed.files} files, ${packed.problems} problems`);
	if (packed.problems) console.log(packed.text);
	failed = sources.problems > 0 || packed.problems > 0;
} finally {
	rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
