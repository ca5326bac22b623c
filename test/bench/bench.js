'use strict';
/**
 * `npm run bench`: recall throughput of the node against DingTalk's limits and the alternatives, in one
 * run, against the DingTalk-compatible server on 127.0.0.1 with a fixed per-call latency.
 *
 *   node          the DingTalk Recall Message node in n8n's real engine, default options
 *   baseline      a plain undici loop making the same batched calls (20 keys, same concurrency): the floor
 *   one-per-key   one call per key through n8n's HTTP client at the same concurrency: what an HTTP
 *                 Request node does, once per item
 *   n8n-http      the same batched calls through n8n's own HTTP client (the one under
 *                 httpRequestWithAuthentication), without engine or node: what n8n's HTTP layer costs
 *
 * Each measurement runs in its own child process, so its peak RSS is its own; the server runs here.
 * Writes test/bench/results.json and results.md, and the README's benchmark section.
 */
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { DingTalkServer, PATHS } = require('../support/dingtalk-server');

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 30);
const CONCURRENCY = 5; // the node's default Parallel Calls
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const ROBOT = 'dingBenchBot';
const here = __dirname;

// ---------------------------------------------------------------- child: one measurement

/**
 * One measurement. Before the clock starts, each approach recalls a few warm-up keys with a credential of
 * its own: n8n is a long-running process whose engine, HTTP client and node are loaded long before an
 * incident flow runs. The measured run then starts from a credential with no token, so it fetches one.
 */
async function measureInChild({ approach, keys, warmupKeys, perItem, apiBaseUrl, oapiBaseUrl }) {
	const credentialData = {
		appType: 'internal', clientId: 'ding-app-key', clientSecret: 'ding-app-secret',
		environment: 'custom', apiBaseUrl, oapiBaseUrl, accessToken: '',
	};
	let recall;
	if (approach === 'node') {
		const { runNode, CredentialsHelper } = require('../support/n8n-harness');
		recall = async (batchKeys, credentialId, itemSize) => {
			const credentials = new CredentialsHelper();
			credentials.add(credentialId, credentialData);
			const items = [];
			for (let i = 0; i < batchKeys.length; i += itemSize) items.push({ keys: itemSize === 1 ? batchKeys[i] : batchKeys.slice(i, i + itemSize) });
			const result = await runNode({
				items,
				credentials,
				credentialId,
				parameters: { operation: 'recallRobotOneOnOneMessages', robotCode: ROBOT, processQueryKeys: '={{ $json.keys }}', options: {} },
			});
			if (result.error) throw result.error;
			return { outputs: result.success.length + result.failed.length, failed: result.failed.length };
		};
	} else {
		let post;
		if (approach !== 'baseline') {
			// n8n's own HTTP client, the one under httpRequestWithAuthentication (and the HTTP Request
			// node), without the engine or this node.
			const { Container } = require('@n8n/di');
			const { OutboundHttp } = require('@n8n/backend-network');
			const http = Container.get(OutboundHttp).requests();
			post = async (pathName, body, headers = {}) => {
				const response = await http.request({ method: 'POST', url: `${apiBaseUrl}${pathName}`, headers, body, json: true, returnFullResponse: true, ignoreHttpStatusErrors: true });
				return { status: response.statusCode, body: response.body };
			};
		} else {
			const { Pool } = require('undici');
			const pool = new Pool(apiBaseUrl, { connections: CONCURRENCY });
			post = async (pathName, body, headers = {}) => {
				const response = await pool.request({ method: 'POST', path: pathName, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
				return { status: response.statusCode, body: await response.body.json() };
			};
		}
		const size = approach === 'one-per-key' ? 1 : 20;
		recall = async (batchKeys) => {
			const { body: token } = await post(PATHS.accessToken, { appKey: 'ding-app-key', appSecret: 'ding-app-secret' });
			const batches = [];
			for (let i = 0; i < batchKeys.length; i += size) batches.push(batchKeys.slice(i, i + size));
			let next = 0;
			let outputs = 0;
			let failed = 0;
			await Promise.all(
				Array.from({ length: CONCURRENCY }, async () => {
					while (next < batches.length) {
						const batch = batches[next++];
						const { status, body } = await post(PATHS.batchRecall, { robotCode: ROBOT, processQueryKeys: batch }, { 'x-acs-dingtalk-access-token': token.accessToken });
						outputs += batch.length;
						failed += status === 200 ? batch.length - body.successResult.length : batch.length;
					}
				}),
			);
			return { outputs, failed };
		};
	}

	await recall(warmupKeys, 'warm-up', 1);
	const measuredFrom = Date.now();
	const started = process.hrtime.bigint();
	const { outputs, failed } = await recall(keys, 'measured', perItem);
	const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
	process.stdout.write(JSON.stringify({ wallMs, outputs, failed, measuredFrom, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

// ---------------------------------------------------------------- parent: the runs and the report

function runChild(args) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.join(here, 'profiles')}`] : []), __filename, '--child'], {
			stdio: ['pipe', 'pipe', 'inherit'],
			env: { ...process.env, N8N_LOG_LEVEL: 'silent' },
		});
		let out = '';
		child.stdout.on('data', (chunk) => (out += chunk));
		child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`bench child exited ${code}: ${out}`))));
		child.stdin.end(JSON.stringify(args));
	});
}

async function measure(approach, keyCount, { rateLimitPerSecond = 0, perItem = 1 } = {}) {
	const server = await new DingTalkServer({ robots: [ROBOT], latencyMs: LATENCY_MS, rateLimitPerSecond }).start();
	try {
		const keys = server.sendRobotMessages(ROBOT, keyCount);
		const warmupKeys = server.sendRobotMessages(ROBOT, 20);
		const result = await runChild({ approach, keys, warmupKeys, perItem, apiBaseUrl: server.apiBaseUrl, oapiBaseUrl: server.oapiBaseUrl });
		const measured = (call) => call.at >= result.measuredFrom;
		const calls = server.callsTo(PATHS.batchRecall).filter(measured);
		const row = {
			approach,
			keys: keyCount,
			itemsPerKey: perItem === 1 ? '1 key per item' : `${perItem} keys per item`,
			calls: calls.length,
			throttledCalls: calls.filter((call) => call.status === 403).length,
			tokenFetches: server.callsTo(PATHS.accessToken).filter(measured).length,
			recalled: keys.filter((key) => server.isRecalled(key)).length,
			failed: result.failed,
			outputs: result.outputs,
			wallMs: Math.round(result.wallMs),
			keysPerSecond: Math.round(keyCount / (result.wallMs / 1000)),
			peakRssMb: Math.round(result.peakRssMb),
		};
		console.error(`  ${approach.padEnd(11)} ${String(keyCount).padStart(6)} keys: ${row.calls} calls, ${row.wallMs} ms, ${row.keysPerSecond} keys/s, ${row.peakRssMb} MB`);
		return row;
	} finally {
		await server.stop();
	}
}

/** The run with the median wall time, marked with how many runs it is the median of. */
function median(rows) {
	const sorted = [...rows].sort((a, b) => a.wallMs - b.wallMs);
	return { ...sorted[Math.floor(sorted.length / 2)], runs: rows.length, wallTimesMs: rows.map((row) => row.wallMs) };
}

function ratio(a, b) {
	return b ? Math.round((a / b) * 100) / 100 : null;
}

function markdown(report) {
	const lines = [];
	lines.push(`Measured ${report.date} on ${report.machine}; server latency ${report.latencyMs} ms per call, ${report.concurrency} calls in flight (the node's default). Node and baseline rows are the median of ${report.repeats} alternating runs up to 10,000 keys (one run at 100,000).`, '');
	lines.push('| keys | approach | calls | token fetches | wall time | keys/s | peak RSS | ÷ baseline | one-per-key ÷ node |');
	lines.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
	for (const size of report.sizes) {
		for (const row of size.rows) {
			const isNode = row.approach === 'node';
			const overBaseline = isNode ? size.nodeOverBaseline : row.approach === 'n8n-http' ? size.n8nHttpOverBaseline : '';
			lines.push(`| ${row.keys.toLocaleString('en')} | ${row.approach}${isNode && row.itemsPerKey !== '1 key per item' ? ` (${row.itemsPerKey})` : ''} | ${row.calls} | ${row.tokenFetches} | ${(row.wallMs / 1000).toFixed(2)} s | ${row.keysPerSecond.toLocaleString('en')} | ${row.peakRssMb} MB | ${overBaseline} | ${isNode && size.onePerKeyOverNode ? `${size.onePerKeyOverNode}×` : ''} |`);
		}
		if (size.onePerKeyNote) lines.push(`| ${size.keys.toLocaleString('en')} | one-per-key | — | — | ${size.onePerKeyNote} | | | | |`);
	}
	lines.push('', `The node itself, over n8n's own HTTP client making the same calls: ${report.sizes.map((size) => `×${size.nodeOverN8nHttp} at ${size.keys.toLocaleString('en')} keys`).join(', ')}.`);
	lines.push('', 'Under DingTalk’s standard limit, the server allowing 20 calls per second per API:', '');
	lines.push('| keys | calls admitted | throttled answers | Failed | wall time | theoretical minimum (calls ÷ 20/s) | wall ÷ minimum |');
	lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
	for (const row of report.throttled) {
		lines.push(`| ${row.keys.toLocaleString('en')} | ${row.calls - row.throttledCalls} | ${row.throttledCalls} | ${row.failed} | ${(row.wallMs / 1000).toFixed(2)} s | ${row.minimumSeconds.toFixed(2)} s | ${row.overMinimum} |`);
	}
	lines.push('', `Time from 10,000 to 100,000 keys (node): ×${report.growth10kTo100k} for ×10 the keys.`);
	return lines.join('\n');
}

async function main() {
	execFileSync('npm', ['run', 'build', '--silent'], { cwd: path.resolve(here, '../..'), stdio: ['ignore', 'ignore', 'inherit'] });
	const sizes = [];
	for (const keys of [1000, 10000, 100000]) {
		console.error(`${keys} keys:`);
		const perItem = keys === 100000 ? 100 : 1;
		// Node and baseline alternate, several times where it is quick, and each reports its median run:
		// the machine's speed drifts, and a ratio should compare runs made under the same conditions.
		const repeats = keys <= 10000 ? REPEATS : 1;
		const runs = { node: [], baseline: [], 'n8n-http': [] };
		for (let i = 0; i < repeats; i++) {
			runs.node.push(await measure('node', keys, { perItem }));
			runs.baseline.push(await measure('baseline', keys));
			runs['n8n-http'].push(await measure('n8n-http', keys));
		}
		const rows = [median(runs.node), median(runs.baseline), median(runs['n8n-http'])];
		let onePerKeyNote;
		if (keys <= 10000) rows.push(await measure('one-per-key', keys));
		else onePerKeyNote = `not run: ${keys.toLocaleString('en')} calls would take over ${Math.round((keys / CONCURRENCY) * LATENCY_MS / 60000)} min`;
		const [node, baseline, n8nHttp, onePerKey] = rows;
		sizes.push({
			keys,
			rows,
			nodeOverBaseline: ratio(node.wallMs, baseline.wallMs),
			nodeOverN8nHttp: ratio(node.wallMs, n8nHttp.wallMs),
			n8nHttpOverBaseline: ratio(n8nHttp.wallMs, baseline.wallMs),
			onePerKeyOverNode: onePerKey ? ratio(onePerKey.wallMs, node.wallMs) : null,
			onePerKeyNote,
		});
	}
	console.error('under 20 calls per second:');
	const throttled = [];
	for (const keys of [1000, 10000]) {
		const row = await measure('node', keys, { rateLimitPerSecond: 20 });
		const minimumSeconds = Math.ceil(keys / 20) / 20;
		throttled.push({ ...row, minimumSeconds, overMinimum: ratio(row.wallMs / 1000, minimumSeconds) });
	}
	const node10k = sizes[1].rows[0];
	const node100k = sizes[2].rows[0];
	const report = {
		date: new Date().toISOString().slice(0, 10),
		machine: `${os.cpus().length} × ${os.cpus()[0].model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()}`,
		latencyMs: LATENCY_MS,
		concurrency: CONCURRENCY,
		repeats: REPEATS,
		sizes,
		throttled,
		growth10kTo100k: ratio(node100k.wallMs, node10k.wallMs),
	};
	const table = markdown(report);
	fs.writeFileSync(path.join(here, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
	fs.writeFileSync(path.join(here, 'results.md'), `${table}\n`);
	const readme = path.resolve(here, '../../README.md');
	const text = fs.readFileSync(readme, 'utf8');
	const start = '<!-- bench:start -->';
	const end = '<!-- bench:end -->';
	if (text.includes(start) && text.includes(end)) {
		fs.writeFileSync(readme, `${text.slice(0, text.indexOf(start) + start.length)}\n${table}\n${text.slice(text.indexOf(end))}`);
	}
	console.log(table);
}

if (process.argv.includes('--child')) {
	let input = '';
	process.stdin.on('data', (chunk) => (input += chunk));
	process.stdin.on('end', () =>
		measureInChild(JSON.parse(input)).catch((error) => {
			console.error(error);
			process.exit(1);
		}),
	);
} else {
	main().catch((error) => {
		console.error(error);
		process.exit(1);
	});
}
