// `npm run lint:scanner`: what n8n's community-package scanner would say, and stricter. Lints the sources
// (package.json, nodes/ and credentials/ with the codex JSON), then every JavaScript and JSON file of the
// packed tarball (what users install: index.js, dist/**/*.js, the codex, package.json), with the rules of
// eslint.scanner.config.mjs beside this file. An inline `eslint-disable` has no effect and is itself a
// warning (the config sets noInlineConfig), and any warning fails (--max-warnings 0).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const config = path.join(here, 'eslint.scanner.config.mjs');
const eslintBin = path.join(root, 'node_modules/eslint/bin/eslint.js');

/** Runs the eslint CLI on `files` (relative to `cwd`); true when it found nothing, not even a warning. */
function lint(label, cwd, files) {
	console.log(`${label}: ${files.length} files\n  ${files.join('\n  ')}`);
	try {
		execFileSync(
			process.execPath,
			[eslintBin, '--config', config, '--max-warnings', '0', ...files],
			{ cwd, stdio: 'inherit' },
		);
		console.log(`${label}: no problems`);
		return true;
	} catch {
		console.log(`${label}: FAILED`);
		return false;
	}
}

/** The files in `folders` under `cwd` whose names end in one of `extensions`. */
function filesOf(cwd, folders, extensions) {
	return folders
		.flatMap((folder) => readdirSync(path.join(cwd, folder), { recursive: true }).map((file) => path.join(folder, file)))
		.filter((file) => extensions.some((extension) => file.endsWith(extension)))
		.sort();
}

const sourcesPassed = lint('sources', root, [
	'package.json',
	...filesOf(root, ['credentials', 'nodes'], ['.ts', '.js', '.json']),
]);

const work = mkdtempSync(path.join(tmpdir(), 'dingtalk-recall-scan-'));
let packedPassed = false;
try {
	execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
	const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' })
		.trim()
		.split('\n')
		.pop();
	execFileSync('tar', ['-xzf', path.join(work, tarball), '-C', work]);
	const packed = path.join(work, 'package');
	packedPassed = lint(`packed ${tarball}`, packed, filesOf(packed, ['.'], ['.js', '.json']));
} finally {
	rmSync(work, { recursive: true, force: true });
}
process.exit(sourcesPassed && packedPassed ? 0 : 1);
