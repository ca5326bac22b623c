'use strict';
/**
 * n8n in queue mode for end-to-end tests: a private PostgreSQL and Redis (Debian's packages) on
 * loopback, each in its own temp folder, then n8n main and `n8n worker` processes sharing them. Every
 * n8n process, and the CLI that imports into the database, has its own user folder with the packed
 * package installed: a worker without it fails its executions while main registers the webhook happily.
 *
 * Each process is started in its own process group and stopped by that group's id, so that the task
 * runner n8n starts as a child stops with it.
 */
const { execFileSync, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { RealN8n, packPackage, freePort } = require('./real-n8n');

const POSTGRES_ROOT = '/usr/lib/postgresql';

/** The newest PostgreSQL server Debian installed. */
function postgresBin() {
	const versions = fs.existsSync(POSTGRES_ROOT)
		? fs.readdirSync(POSTGRES_ROOT).filter((version) => fs.existsSync(path.join(POSTGRES_ROOT, version, 'bin/postgres')))
		: [];
	if (versions.length === 0) throw new Error(`no PostgreSQL server under ${POSTGRES_ROOT}: apt-get install postgresql`);
	const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
	return path.join(POSTGRES_ROOT, newest, 'bin');
}

/** initdb refuses to run as root: as root, PostgreSQL runs as Debian's `postgres` user. */
function postgresIdentity() {
	if (process.getuid() !== 0) return {};
	const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
	return { uid: id('-u'), gid: id('-g') };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function read(file) {
	try {
		return fs.readFileSync(file, 'utf8');
	} catch {
		return '';
	}
}

const tail = (file) => read(file).slice(-3000);

function signalGroup(pid, signal) {
	try {
		process.kill(-pid, signal);
	} catch (error) {
		if (error.code !== 'ESRCH') throw error;
	}
}

/** A long-running process in its own group, its output in a file. */
class Service {
	constructor(name, command, args, { env, uid, gid, outputFile, stopSignal = 'SIGTERM' }) {
		this.name = name;
		this.outputFile = outputFile;
		this.stopSignal = stopSignal;
		const output = fs.openSync(outputFile, 'a');
		this.child = spawn(command, args, { env, uid, gid, detached: true, stdio: ['ignore', output, output] });
		fs.closeSync(output);
		this.exited = new Promise((resolve) => this.child.once('exit', resolve));
		this.child.once('error', () => {}); // reported through `exited` and the output file
	}

	get running() {
		return this.child.exitCode === null && this.child.signalCode === null;
	}

	/** Resolves once `isReady()` says so; throws if the process ends first or time runs out. */
	async ready(isReady, timeoutMs = 180_000) {
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			if (!this.running) throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode})\n${tail(this.outputFile)}`);
			if (await isReady().catch(() => false)) return;
			await sleep(250);
		}
		throw new Error(`${this.name} was not ready in ${timeoutMs / 1000} s\n${tail(this.outputFile)}`);
	}

	/** Asks the group to stop, waits a while, then kills whatever of it is left. */
	async stop(graceMs = 15_000) {
		if (this.child.pid === undefined) return;
		if (this.running) {
			signalGroup(this.child.pid, this.stopSignal);
			const timer = setTimeout(() => signalGroup(this.child.pid, 'SIGKILL'), graceMs);
			await this.exited;
			clearTimeout(timer);
		}
		signalGroup(this.child.pid, 'SIGKILL'); // a child it left behind
	}
}

async function answersOk(url) {
	const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
	return response.ok;
}

function redisAnswersPing(port) {
	return new Promise((resolve) => {
		const socket = net.connect(port, '127.0.0.1');
		socket.setTimeout(2000);
		socket.on('connect', () => socket.write('PING\r\n'));
		socket.on('data', (data) => {
			socket.destroy();
			resolve(data.toString().startsWith('+PONG'));
		});
		socket.on('error', () => resolve(false));
		socket.on('timeout', () => {
			socket.destroy();
			resolve(false);
		});
	});
}

/** One n8n user folder of the stack: the shared database, queue and encryption key, its own task broker port. */
class QueueN8n extends RealN8n {
	constructor(stack, name) {
		super();
		this.name = name;
		this.stack = stack;
		this.encryptionKey = stack.encryptionKey;
	}

	async env(extra = {}) {
		return await super.env({ ...this.stack.sharedEnv(), ...extra });
	}

	async spawn(args, extraEnv) {
		const env = await this.env(extraEnv);
		return new Service(`n8n ${this.name}`, path.join(this.nodeBin, 'node'), [this.n8nBin, ...args], {
			env,
			outputFile: path.join(this.home, 'output.log'),
		});
	}
}

class QueueStack {
	constructor({ workers = 2, concurrency = 10 } = {}) {
		this.workerCount = workers;
		this.concurrency = concurrency;
		this.encryptionKey = crypto.randomBytes(24).toString('hex');
		this.services = [];
		this.folders = [];
		this.instances = [];
		this.workers = [];
	}

	sharedEnv() {
		return {
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(this.postgresPort),
			DB_POSTGRESDB_DATABASE: 'postgres',
			DB_POSTGRESDB_USER: 'postgres',
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(this.redisPort),
			N8N_DISABLED_MODULES: 'mcp-registry',
			N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
		};
	}

	folder(prefix) {
		const folder = fs.mkdtempSync(path.join(os.tmpdir(), `dingtalk-recall-queue-${prefix}-`));
		this.folders.push(folder);
		return folder;
	}

	instance(name) {
		const instance = new QueueN8n(this, name);
		this.folders.push(instance.home);
		this.instances.push(instance);
		instance.installPackage(this.tarball);
		return instance;
	}

	/**
	 * Starts PostgreSQL and Redis, imports the credentials and workflows, publishes the workflows (main
	 * activates published workflows as it starts), then starts main and the workers.
	 */
	async start({ credentials = [], workflows = [] } = {}) {
		await Promise.all([this.startPostgres(), this.startRedis()]);
		this.tarball = packPackage(this.folder('pack'));

		this.cli = this.instance('cli');
		if (credentials.length) await this.cli.importCredentials(credentials);
		for (const workflow of workflows) {
			await this.cli.importWorkflow(workflow);
			// `import:workflow --activeState=fromJson` would need an owner account; publishing does not.
			await this.cli.cli(['publish:workflow', `--id=${workflow.id}`]);
		}

		this.port = await freePort();
		this.baseUrl = `http://127.0.0.1:${this.port}`;
		const main = this.instance('main');
		this.main = await main.spawn(['start'], {
			N8N_PORT: String(this.port),
			N8N_HOST: '127.0.0.1',
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_WEBHOOK_URL: `${this.baseUrl}/`,
		});
		this.services.push(this.main);
		const ready = [this.main.ready(() => answersOk(`${this.baseUrl}/healthz/readiness`))];
		for (let index = 1; index <= this.workerCount; index++) {
			const instance = this.instance(`worker ${index}`);
			const healthPort = await freePort();
			const worker = await instance.spawn(['worker', `--concurrency=${this.concurrency}`], {
				QUEUE_HEALTH_CHECK_ACTIVE: 'true',
				QUEUE_HEALTH_CHECK_PORT: String(healthPort),
				N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
			});
			worker.instance = instance;
			this.services.push(worker);
			this.workers.push(worker);
			ready.push(worker.ready(() => answersOk(`http://127.0.0.1:${healthPort}/healthz/readiness`)));
		}
		await Promise.all(ready);
		return this;
	}

	async startPostgres() {
		const bin = postgresBin();
		const identity = postgresIdentity();
		const root = this.folder('postgres');
		const data = path.join(root, 'data');
		fs.mkdirSync(data);
		if (identity.uid !== undefined) for (const folder of [root, data]) fs.chownSync(folder, identity.uid, identity.gid);
		execFileSync(path.join(bin, 'initdb'), ['-D', data, '--auth=trust', '--username=postgres', '--no-sync'], {
			...identity,
			stdio: ['ignore', 'ignore', 'pipe'],
		});
		this.postgresPort = await freePort();
		const postgres = new Service(
			'PostgreSQL',
			path.join(bin, 'postgres'),
			['-D', data, '-p', String(this.postgresPort), '-k', root, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off'],
			{ ...identity, env: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, outputFile: path.join(root, 'postgres.log'), stopSignal: 'SIGINT' },
		);
		this.services.push(postgres);
		await postgres.ready(async () => {
			execFileSync(path.join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(this.postgresPort)]);
			return true;
		}, 60_000);
	}

	async startRedis() {
		const root = this.folder('redis');
		this.redisPort = await freePort();
		const redis = new Service(
			'Redis',
			'redis-server',
			['--bind', '127.0.0.1', '--port', String(this.redisPort), '--dir', root, '--save', '', '--appendonly', 'no'],
			{ env: { PATH: process.env.PATH }, outputFile: path.join(root, 'redis.log') },
		);
		this.services.push(redis);
		await redis.ready(() => redisAnswersPing(this.redisPort), 60_000);
	}

	/** Runs SQL against the stack's database with the `pg` client n8n itself uses. */
	async query(sql, parameters = []) {
		const { Client } = require(require.resolve('pg', { paths: [path.join(this.cli.n8nDir, 'node_modules/n8n')] }));
		const client = new Client({ host: '127.0.0.1', port: this.postgresPort, user: 'postgres', database: 'postgres' });
		await client.connect();
		try {
			return (await client.query(sql, parameters)).rows;
		} finally {
			await client.end();
		}
	}

	/** The executions each worker started, from its log ("Worker started execution N"). */
	executionsByWorker() {
		return this.workers.map((worker) => {
			const text = `${read(worker.instance.logFile)}\n${read(worker.outputFile)}`;
			return new Set([...text.matchAll(/Worker started execution (\d+)/g)].map((match) => match[1]));
		});
	}

	/** Stops n8n, then Redis and PostgreSQL, and removes every folder; safe on a half-started stack. */
	async stop() {
		const n8nServices = this.services.filter((service) => service.name.startsWith('n8n'));
		const others = this.services.filter((service) => !n8nServices.includes(service));
		await Promise.all(n8nServices.map((service) => service.stop()));
		await Promise.all(others.map((service) => service.stop()));
		for (const folder of this.folders) fs.rmSync(folder, { recursive: true, force: true });
	}
}

module.exports = { QueueStack };
