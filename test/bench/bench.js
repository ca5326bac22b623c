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
 * Then incident storms: many executions of the node at once on one DingTalk app, in one process or in
 * two (queue-mode workers), against the server limited to DingTalk's standard 20 calls per second.
 * Then DINGs: 200 robot DING messages recalled (one call each) against the same 20 calls per second; and
 * sends: 1,000 people one-on-one (50 calls of 20) and 200 group messages (one call each), at 20 calls a second.
 *
 * Each measurement runs in its own child process, so its peak RSS is its own; the server runs here.
 * Writes test/bench/results.json and results.md, and the figures in docs/benchmark.md.
 * `--only=single`, `--only=storms`, `--only=ding` or `--only=send` measures one part and keeps the others' last figures;
 * `--only=report` measures nothing and writes the documents again from the last figures.
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
const DING = 'recallRobotDingMessages';
const SEND_ONE_ON_ONE = 'sendRobotOneOnOneMessage';
const SEND_GROUP = 'sendRobotGroupMessage';
const BENCH_GROUP = 'cidBenchGroup+A1/xyz==';
const here = __dirname;

// ---------------------------------------------------------------- child: one measurement

/**
 * One measurement. Before the clock starts, each approach recalls a few warm-up keys with a credential of
 * its own: n8n is a long-running process whose engine, HTTP client and node are loaded long before an
 * incident flow runs. The measured run then starts from a credential with no token, so it fetches one.
 */
async function measureInChild({ approach, keys, warmupKeys, perItem, apiBaseUrl, oapiBaseUrl, operation, warmupApp, runs = 1 }) {
	const credentialData = {
		appType: 'internal', clientId: 'ding-app-key', clientSecret: 'ding-app-secret',
		environment: 'custom', apiBaseUrl, oapiBaseUrl, accessToken: '',
	};
	// Under a rate limit the warm-up uses an app of its own, so its calls take none of the measured app's.
	const warmupCredentialData = warmupApp ? { ...credentialData, clientId: warmupApp[0], clientSecret: warmupApp[1] } : credentialData;
	const sends = operation === SEND_ONE_ON_ONE || operation === SEND_GROUP;
	const parameters = {
		[DING]: { operation, robotCode: ROBOT, openDingIds: '={{ $json.keys }}', options: {} },
		[SEND_ONE_ON_ONE]: { operation, robotCode: ROBOT, userIds: '={{ $json.keys }}', messageType: 'text', text: 'Disk full on db-01', options: {} },
		[SEND_GROUP]: { operation, robotCode: ROBOT, openConversationId: BENCH_GROUP, messageType: 'text', text: '={{ $json.keys }}', options: {} },
	}[operation] ?? { operation: 'recallRobotOneOnOneMessages', robotCode: ROBOT, processQueryKeys: '={{ $json.keys }}', options: {} };
	let recall;
	if (approach === 'node') {
		const { runNode, CredentialsHelper } = require('../support/n8n-harness');
		recall = async (batchKeys, credentialId, itemSize) => {
			const credentials = new CredentialsHelper();
			credentials.add(credentialId, credentialId === 'warm-up' ? warmupCredentialData : credentialData);
			const items = [];
			for (let i = 0; i < batchKeys.length; i += itemSize) items.push({ keys: itemSize === 1 ? batchKeys[i] : batchKeys.slice(i, i + itemSize) });
			const result = await runNode({
				send: sends,
				items,
				credentials,
				credentialId,
				parameters,
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
		// The paced baseline keeps its token, as the node's process does, and waits for room as an ideal client would.
		const paced = approach === 'paced-baseline';
		const turn = paced ? idealTurns(STORM_LIMIT_PER_SECOND) : async () => () => {};
		let kept;
		recall = async (batchKeys) => {
			const token = kept ?? (await post(PATHS.accessToken, { appKey: 'ding-app-key', appSecret: 'ding-app-secret' })).body;
			if (paced) kept = token;
			const batches = [];
			for (let i = 0; i < batchKeys.length; i += size) batches.push(batchKeys.slice(i, i + size));
			let next = 0;
			let outputs = 0;
			let failed = 0;
			await Promise.all(
				Array.from({ length: CONCURRENCY }, async () => {
					while (next < batches.length) {
						const batch = batches[next++];
						const answered = await turn();
						const { status, body } = await post(PATHS.batchRecall, { robotCode: ROBOT, processQueryKeys: batch }, { 'x-acs-dingtalk-access-token': token.accessToken });
						answered();
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
	// Back to back: the keys in `runs` equal parts, each run starting when the one before it ended.
	const part = Math.ceil(keys.length / runs);
	const eachMs = [];
	let outputs = 0;
	let failed = 0;
	for (let run = 0; run < runs; run++) {
		const started = process.hrtime.bigint();
		const result = await recall(keys.slice(run * part, (run + 1) * part), 'measured', perItem);
		eachMs.push(Number(process.hrtime.bigint() - started) / 1e6);
		outputs += result.outputs;
		failed += result.failed;
	}
	const wallMs = eachMs.reduce((sum, ms) => sum + ms, 0);
	process.stdout.write(JSON.stringify({ wallMs, eachMs, outputs, failed, measuredFrom, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

/**
 * Turns for an ideal paced client: a call goes when fewer than `limit` calls are in flight or were answered
 * in the last second, DingTalk's sliding window counted from the answers, with no engine, no node and no
 * probing. Returns a function to call with the answer. What no client that keeps within the limit can beat here.
 */
function idealTurns(limit) {
	const answeredAt = [];
	let inFlight = 0;
	return async () => {
		for (;;) {
			const now = performance.now();
			while (answeredAt.length && answeredAt[0] <= now - 1000) answeredAt.shift();
			if (inFlight + answeredAt.length < limit) break;
			await new Promise((resolve) => setTimeout(resolve, Math.max(1, answeredAt[0] + 1000 - now)));
		}
		inFlight++;
		return () => {
			inFlight--;
			answeredAt.push(performance.now());
		};
	};
}

/**
 * One process of a storm: `executions` runs of the node at once, each recalling its own keys (one key
 * per item, as alerts come), all on one credential holding a valid token. It warms up on another app,
 * says `ready`, and starts when the parent says `go`, at the same moment as the other processes.
 */
async function stormInChild({ rounds, warmupKeys, credentialData, warmupCredentialData, backToBack = false }, nextGo) {
	const { runNode, CredentialsHelper } = require('../support/n8n-harness');
	const recall = async (keys, data) => {
		const credentials = new CredentialsHelper();
		credentials.add('cred-1', data);
		const result = await runNode({
			items: keys.map((key) => ({ keys: key })),
			credentials,
			parameters: { operation: 'recallRobotOneOnOneMessages', robotCode: ROBOT, processQueryKeys: '={{ $json.keys }}', options: {} },
		});
		if (result.error) throw result.error;
		return { outputs: result.success.length + result.failed.length, failed: result.failed.length };
	};
	await recall(warmupKeys, warmupCredentialData);
	process.stdout.write('ready\n');
	const timed = async (keys, from) => {
		const { outputs, failed } = await recall(keys, credentialData);
		return { wallMs: Number(process.hrtime.bigint() - from) / 1e6, outputs, failed };
	};
	// Each round starts on the parent's word, in this same process: a later round meets the pace the earlier one left.
	for (const keysPerExecution of rounds) {
		await nextGo();
		const started = process.hrtime.bigint();
		const goAt = Date.now();
		let executions = [];
		// Back to back: each execution starts when the one before it ended, and is timed from its own start.
		if (backToBack) for (const keys of keysPerExecution) executions.push(await timed(keys, process.hrtime.bigint()));
		else executions = await Promise.all(keysPerExecution.map(async (keys) => await timed(keys, started)));
		process.stdout.write(`${JSON.stringify({ goAt, executions })}\n`);
	}
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

/** Starts a storm process; resolves `ready` once it has warmed up, `done` with its executions. */
function stormChild(args) {
	const child = spawn(process.execPath, [__filename, '--storm-child'], {
		stdio: ['pipe', 'pipe', 'inherit'],
		env: { ...process.env, N8N_LOG_LEVEL: 'silent' },
	});
	child.stdin.write(`${JSON.stringify(args)}\n`);
	let out = '';
	let markReady;
	const ready = new Promise((resolve) => (markReady = resolve));
	const waiting = [];
	let lines = 0;
	child.stdout.on('data', (chunk) => {
		out += chunk;
		if (out.startsWith('ready\n')) markReady();
		const results = out.split('\n').slice(1, -1);
		while (lines < results.length) waiting.shift()?.resolve(JSON.parse(results[lines++]));
	});
	child.on('exit', (code) => {
		if (code !== 0) for (const round of waiting.splice(0)) round.reject(new Error(`storm child exited ${code}: ${out}`));
	});
	/** Starts the next round; resolves with its executions. */
	const go = () =>
		new Promise((resolve, reject) => {
			waiting.push({ resolve, reject });
			child.stdin.write('go\n');
		});
	return { ready, go, end: () => child.stdin.end() };
}

const STORM_LIMIT_PER_SECOND = 20;

/** The least time DingTalk's limit allows: all calls but the last second's go in the seconds before it, plus one round trip. */
function stormFloorMs(calls) {
	return (Math.ceil(calls / STORM_LIMIT_PER_SECOND) - 1) * 1000 + LATENCY_MS;
}

/** One storm: `processes` × `executions` runs of the node at once, `keys` keys each, on one app. */
async function measureStorm({ processes, executions, keys, backToBack = false, warm = false }) {
	const apps = { 'ding-app-key': 'ding-app-secret', 'ding-warmup-key': 'ding-warmup-secret' };
	const server = await new DingTalkServer({ apps, robots: [ROBOT], latencyMs: LATENCY_MS, rateLimitPerSecond: STORM_LIMIT_PER_SECOND }).start();
	try {
		// Every execution starts on the same valid token, as a storm on a credential in use does.
		const credentialData = server.credentialData({ accessToken: server.issueToken('ding-app-key', true) });
		const warmupCredentialData = server.credentialData({ clientId: 'ding-warmup-key', clientSecret: 'ding-warmup-secret' });
		// Warm: the same storm ran in these processes a moment before; the one measured meets the pace it left.
		const roundsOf = Array.from({ length: processes }, () =>
			Array.from({ length: warm ? 2 : 1 }, () => Array.from({ length: executions }, () => server.sendRobotMessages(ROBOT, keys))),
		);
		const keysOf = roundsOf.map((rounds) => rounds.at(-1));
		const children = roundsOf.map((rounds) =>
			stormChild({ rounds, warmupKeys: server.sendRobotMessages(ROBOT, 20), credentialData, warmupCredentialData, backToBack }),
		);
		await Promise.all(children.map((child) => child.ready));
		if (warm) {
			await Promise.all(children.map((child) => child.go()));
			// DingTalk's window of the earlier storm passes; the processes' pacers keep what they learned.
			await new Promise((resolve) => setTimeout(resolve, 1500));
		}
		const tokenFetchesBefore = server.tokenFetches;
		const results = await Promise.all(children.map((child) => child.go()));
		for (const child of children) child.end();

		const measuredFrom = Math.min(...results.map((result) => result.goAt));
		const calls = server.callsTo(PATHS.batchRecall).filter((call) => call.at >= measuredFrom);
		const allKeys = keysOf.flat(2);
		const recalledByCalls = calls.flatMap((call) => call.recalledKeys ?? []);
		const durations = results.flatMap((result) => result.executions.map((execution) => execution.wallMs)).sort((a, b) => a - b);
		const admitted = calls.filter((call) => call.status !== 403).length;
		const throttledCalls = calls.length - admitted;
		// Back to back, each execution is held to the floor of one execution alone.
		const floorMs = stormFloorMs((backToBack ? 1 : processes * executions) * Math.ceil(keys / 20));
		const row = {
			processes,
			executions,
			backToBack,
			warm,
			keysPerExecution: keys,
			callsAdmitted: admitted,
			throttledCalls,
			throttledPerCall: Math.round((throttledCalls / admitted) * 1000) / 1000,
			failed: results.reduce((sum, result) => sum + result.executions.reduce((total, execution) => total + execution.failed, 0), 0),
			outputs: results.reduce((sum, result) => sum + result.executions.reduce((total, execution) => total + execution.outputs, 0), 0),
			everyKeyRecalledOnce: recalledByCalls.length === allKeys.length && new Set(recalledByCalls).size === allKeys.length && allKeys.every((key) => server.isRecalled(key)),
			tokenFetches: server.tokenFetches - tokenFetchesBefore,
			floorMs,
			slowestMs: Math.round(durations.at(-1)),
			medianMs: Math.round(durations[Math.floor(durations.length / 2)]),
			slowestOverFloor: ratio(durations.at(-1), floorMs),
			medianOverFloor: ratio(durations[Math.floor(durations.length / 2)], floorMs),
		};
		if (backToBack) {
			const inOrder = results[0].executions.map((execution) => execution.wallMs);
			row.eachOverFloor = inOrder.map((ms) => ratio(ms, floorMs));
			// DingTalk's window carries from one execution into the next: together they cannot beat the floor of all their calls.
			row.togetherOverFloor = ratio(inOrder.reduce((sum, ms) => sum + ms, 0), stormFloorMs(executions * Math.ceil(keys / 20)));
		}
		row.missed = stormTargetsMissed(row);
		console.error(`  ${stormName(row).padEnd(40)} slowest ${row.slowestOverFloor}× floor, median ${row.medianOverFloor}×, ${throttledCalls} throttled / ${admitted} calls, ${row.failed} Failed${row.missed.length ? `; missed: ${row.missed.join(', ')}` : ''}`);
		return row;
	} finally {
		await server.stop();
	}
}

function stormName({ processes, executions, keysPerExecution, backToBack, warm }) {
	const keys = `${keysPerExecution.toLocaleString('en')} keys`;
	if (warm) return `${processes} processes × ${executions} executions × ${keys}, again`;
	if (backToBack) return `${executions} executions × ${keys} back to back, one process`;
	return processes === 1 ? `${executions} executions × ${keys}, one process` : `${processes} processes × ${executions} executions × ${keys}`;
}

/**
 * The storm targets: in one process the slowest execution within 1.25× the floor and at most 10 %
 * throttled answers per call; across processes within 1.5×; always zero Failed and every key recalled once.
 */
function stormTargetsMissed(row) {
	const missed = [];
	const target = STORMS.find(
		(storm) =>
			storm.processes === row.processes &&
			storm.executions === row.executions &&
			storm.keys === row.keysPerExecution &&
			Boolean(storm.backToBack) === Boolean(row.backToBack) &&
			Boolean(storm.warm) === Boolean(row.warm),
	);
	const slowest = target?.slowest ?? (row.processes === 1 ? 1.25 : 1.5);
	const throttled = target?.throttled ?? (row.processes === 1 ? 0.1 : undefined);
	if (row.slowestOverFloor > slowest) missed.push(`slowest over ${slowest}× the floor`);
	if (throttled !== undefined && row.throttledPerCall > throttled) missed.push(`over ${throttled * 100} % throttled`);
	if (row.failed) missed.push('keys on Failed');
	if (!row.everyKeyRecalledOnce) missed.push('not every key recalled exactly once');
	return missed;
}

/** The storms of issue 10, then the same with 1,000 keys per execution. */
const STORMS = [
	{ processes: 1, executions: 8, keys: 500 },
	{ processes: 1, executions: 100, keys: 20 },
	// Issue 21's targets for two workers.
	{ processes: 2, executions: 4, keys: 500, slowest: 1.15, throttled: 0.1 },
	{ processes: 1, executions: 8, keys: 1000 },
	{ processes: 1, executions: 100, keys: 1000 },
	{ processes: 2, executions: 4, keys: 1000 },
	// Issue 21: executions back to back, and short storms on more queue-mode workers.
	{ processes: 1, executions: 3, keys: 1000, backToBack: true, slowest: 1.1 },
	{ processes: 4, executions: 2, keys: 250, throttled: 0.15 },
	{ processes: 4, executions: 2, keys: 1000, throttled: 0.15 },
	// The same storms again in the same processes, as queue-mode workers meet them: what the pacers learned holds.
	{ processes: 2, executions: 4, keys: 500, warm: true, slowest: 1.15, throttled: 0.1 },
	{ processes: 4, executions: 2, keys: 250, warm: true, throttled: 0.15 },
];

/**
 * Under DingTalk's standard limit: the node alone, and the ideal paced client (no engine, no node, no
 * probes) alone and three times back to back: how close any client that keeps within the limit can come.
 */
const LIMITED_RUNS = [
	{ approach: 'node', keys: 1000, runs: 1 },
	{ approach: 'paced-baseline', keys: 1000, runs: 1 },
	{ approach: 'paced-baseline', keys: 3000, runs: 3 },
	{ approach: 'node', keys: 10000, runs: 1 },
];

async function measure(approach, keyCount, { rateLimitPerSecond = 0, perItem = 1, runs = 1 } = {}) {
	const server = await new DingTalkServer({ robots: [ROBOT], latencyMs: LATENCY_MS, rateLimitPerSecond }).start();
	try {
		const keys = server.sendRobotMessages(ROBOT, keyCount);
		const warmupKeys = server.sendRobotMessages(ROBOT, 20);
		const result = await runChild({ approach, keys, warmupKeys, perItem, runs, apiBaseUrl: server.apiBaseUrl, oapiBaseUrl: server.oapiBaseUrl });
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
			eachMs: result.eachMs.map(Math.round),
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
	lines.push('| keys | approach | calls admitted | throttled answers | Failed | wall time | floor | wall ÷ floor |');
	lines.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
	for (const row of report.throttled) {
		const keys = row.runs > 1 ? `${row.runs} × ${(row.keys / row.runs).toLocaleString('en')}` : row.keys.toLocaleString('en');
		const approach = `${row.approach === 'node' ? 'node' : 'ideal paced client'}${row.runs > 1 ? ', back to back' : ''}`;
		lines.push(`| ${keys} | ${approach} | ${row.calls - row.throttledCalls} | ${row.throttledCalls} | ${row.failed} | ${row.eachMs.map((ms) => `${(ms / 1000).toFixed(2)} s`).join(', ')} | ${(row.floorMs / 1000).toFixed(2)} s | ${row.eachOverFloor.map((each) => `${each}×`).join(', ')} |`);
	}
	lines.push('', `Floor = (⌈calls ÷ 20⌉ − 1) s + one ${report.latencyMs} ms round trip, per run. The ideal paced client is a plain \`undici\` loop (5 calls in flight, its token kept) that sends a call only while fewer than 20 calls are in flight or were answered in the last second: no engine, no node, no probes; it is never throttled, and no client that keeps within the limit can do much better here.`);
	lines.push('', `Time from 10,000 to 100,000 keys (node): ×${report.growth10kTo100k} for ×10 the keys.`);
	if (report.storms) lines.push('', stormsMarkdown(report.storms));
	if (report.ding) lines.push('', dingMarkdown(report.ding));
	if (report.sends) lines.push('', sendsMarkdown(report.sends));
	return lines.join('\n');
}

/** The headline figures the README shows; the full tables are in docs/benchmark.md. */
function summaryMarkdown(report) {
	const size = (keys) => report.sizes.find((row) => row.keys === keys);
	const lines = [`Measured ${report.date} (\`npm run bench\`, ${report.machine}):`, ''];
	const thousand = size(1000);
	const node = thousand?.rows.find((row) => row.approach === 'node');
	if (node) lines.push(`- 1,000 keys: ${node.calls} calls, ${(node.wallMs / 1000).toFixed(2)} s, ${thousand.nodeOverBaseline}× the raw-HTTP baseline making the same calls; one call per key would take ${thousand.onePerKeyOverNode}× as long.`);
	const limited = report.throttled.find((row) => row.approach === 'node' && row.keys === 10000);
	if (limited) lines.push(`- ${limited.keys.toLocaleString('en')} keys against DingTalk's 20 calls/s: ${limited.eachOverFloor[0]}× the floor the limit allows, ${limited.failed} Failed.`);
	if (report.storms) {
		const atOnce = report.storms.rows.filter((row) => !row.backToBack);
		const slowest = Math.max(...atOnce.map((row) => row.slowestOverFloor));
		const failed = report.storms.rows.reduce((sum, row) => sum + row.failed, 0);
		const processes = Math.max(...atOnce.map((row) => row.processes));
		lines.push(`- Incident storms (up to 100 executions at once, one app, up to ${processes} processes): slowest execution ≤ ${slowest}× the floor DingTalk's limit allows, ${failed} Failed.`);
	}
	if (report.ding) lines.push(`- ${report.ding.dings} DINGs, one call each, at 20 calls/s: ${report.ding.overFloor}× the floor, ${report.ding.failed} Failed.`);
	for (const row of report.sends ?? []) lines.push(`- Send: ${row.what}, at 20 calls/s: ${row.overFloor}× the floor, ${row.failed} Failed, every recipient once.`);
	return lines.join('\n');
}

/** Replaces what stands between `<!-- name:start -->` and `<!-- name:end -->` in a document. */
function writeBetweenMarkers(file, name, content) {
	const text = fs.readFileSync(file, 'utf8');
	const start = `<!-- ${name}:start -->`;
	const end = `<!-- ${name}:end -->`;
	if (!text.includes(start) || !text.includes(end)) return;
	fs.writeFileSync(file, `${text.slice(0, text.indexOf(start) + start.length)}\n${content}\n${text.slice(text.indexOf(end))}`);
}

function stormTable(rows) {
	const lines = [
		'| storm | calls admitted | throttled answers (per call) | Failed | every key recalled once | floor | slowest ÷ floor | median ÷ floor | targets |',
		'| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |',
	];
	for (const row of rows) {
		lines.push(`| ${stormName(row)} | ${row.callsAdmitted} | ${row.throttledCalls} (${(row.throttledPerCall * 100).toFixed(1)} %) | ${row.failed} | ${row.everyKeyRecalledOnce ? 'yes' : 'no'} | ${(row.floorMs / 1000).toFixed(2)} s | ${row.backToBack ? `${row.eachOverFloor.map((each) => `${each}×`).join(', ')} (together ${row.togetherOverFloor}×)` : `${row.slowestOverFloor}×`} | ${row.medianOverFloor}× | ${row.missed.length ? `missed: ${row.missed.join(', ')}` : 'met'} |`);
	}
	return lines;
}

/** The storms of several processes, for docs/queue-mode.md: each process stands for a queue-mode worker. */
function queueModeMarkdown(storms) {
	return [`Measured ${storms.date}, ${storms.machine}.`, '', ...stormTable(storms.rows.filter((row) => row.processes > 1))].join('\n');
}

function stormsMarkdown(storms) {
	const lines = [];
	lines.push(`Incident storms, measured ${storms.date}: executions started at the same moment on one DingTalk app, each recalling its own keys (one key per item) from the same valid token, the server allowing ${storms.limitPerSecond} calls per second; each process stands for a queue-mode worker. Floor = (⌈calls ÷ ${storms.limitPerSecond}⌉ − 1) s + one ${storms.latencyMs} ms round trip. Targets: in one process the slowest execution within 1.25× the floor and at most 10 % throttled answers per call; across processes within 1.5×; 2 processes × 4 × 500 keys within 1.15× and at most 10 % throttled; 4 processes × 2 executions at most 15 % throttled; executions back to back each within 1.10× the floor of one execution (shown: each, then all of them against the floor of all their calls); zero Failed, every key recalled once.`, '');
	lines.push(...stormTable(storms.rows));
	return lines.join('\n');
}

/** The single-run figures: the node against the alternatives, then under 20 calls per second. */
async function measureSingleRuns() {
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
	for (const { approach, keys, runs } of LIMITED_RUNS) {
		const row = await measure(approach, keys, { rateLimitPerSecond: STORM_LIMIT_PER_SECOND, runs });
		// Each run against the floor of its own calls, as the storms are.
		const floorMs = stormFloorMs(Math.ceil(keys / runs / 20));
		throttled.push({ ...row, runs, floorMs, eachOverFloor: row.eachMs.map((ms) => ratio(ms, floorMs)) });
	}
	return {
		date: today(),
		machine: machine(),
		latencyMs: LATENCY_MS,
		concurrency: CONCURRENCY,
		repeats: REPEATS,
		sizes,
		throttled,
		growth10kTo100k: ratio(sizes[2].rows[0].wallMs, sizes[1].rows[0].wallMs),
	};
}

async function measureStorms() {
	console.error(`incident storms, ${STORM_LIMIT_PER_SECOND} calls per second:`);
	const rows = [];
	// BENCH_STORMS=2,6 measures only those rows (0-based), to compare one change quickly.
	const only = process.env.BENCH_STORMS?.split(',').map(Number);
	for (const [index, storm] of STORMS.entries()) if (!only || only.includes(index)) rows.push(await measureStorm(storm));
	return { date: today(), machine: machine(), latencyMs: LATENCY_MS, limitPerSecond: STORM_LIMIT_PER_SECOND, rows };
}

const DING_COUNT = 200;

/**
 * DINGs: 200 recalled by one execution, one call each, against the server allowing 20 calls per second.
 * Floor = (⌈200 ÷ 20⌉ − 1) s + one round trip, as for the storms; the target is within 1.10× and nothing Failed.
 */
async function measureDing() {
	console.error(`${DING_COUNT} DINGs, ${STORM_LIMIT_PER_SECOND} calls per second:`);
	const apps = { 'ding-app-key': 'ding-app-secret', 'ding-warmup-key': 'ding-warmup-secret' };
	const server = await new DingTalkServer({ apps, robots: [ROBOT], latencyMs: LATENCY_MS, rateLimitPerSecond: STORM_LIMIT_PER_SECOND }).start();
	try {
		const dings = server.sendDings(ROBOT, DING_COUNT);
		const result = await runChild({
			approach: 'node',
			operation: DING,
			keys: dings,
			warmupKeys: server.sendDings(ROBOT, 20),
			warmupApp: ['ding-warmup-key', 'ding-warmup-secret'],
			perItem: 1,
			apiBaseUrl: server.apiBaseUrl,
			oapiBaseUrl: server.oapiBaseUrl,
		});
		const calls = server.callsTo(PATHS.dingRecall).filter((call) => call.at >= result.measuredFrom);
		const floorMs = stormFloorMs(DING_COUNT);
		const row = {
			date: today(),
			machine: machine(),
			latencyMs: LATENCY_MS,
			limitPerSecond: STORM_LIMIT_PER_SECOND,
			dings: DING_COUNT,
			callsAdmitted: calls.filter((call) => call.status !== 403).length,
			throttledCalls: calls.filter((call) => call.status === 403).length,
			failed: result.failed,
			outputs: result.outputs,
			everyDingRecalled: dings.every((id) => server.isDingRecalled(id)),
			wallMs: Math.round(result.wallMs),
			eachMs: result.eachMs.map(Math.round),
			floorMs,
			overFloor: ratio(result.wallMs, floorMs),
		};
		row.met = row.overFloor <= 1.1 && row.failed === 0 && row.everyDingRecalled;
		console.error(`  ${row.dings} DINGs: ${row.wallMs} ms, ${row.overFloor}× floor, ${row.throttledCalls} throttled / ${row.callsAdmitted} calls, ${row.failed} Failed`);
		return row;
	} finally {
		await server.stop();
	}
}

/** Sends: one execution, 1,000 people one-on-one in one item (50 calls of 20) and 200 group messages (200 items, a call each). */
const SEND_RUNS = [
	{ operation: SEND_ONE_ON_ONE, what: '1,000 people one-on-one, one item', recipients: 1000, perItem: 1000, path: PATHS.batchSend },
	{ operation: SEND_GROUP, what: '200 group messages, one item each', recipients: 200, perItem: 1, path: PATHS.groupSend },
];

/** Sends against the server allowing 20 calls per second: against the floor of their calls, never a message twice. */
async function measureSends() {
	const rows = [];
	for (const run of SEND_RUNS) {
		console.error(`${run.what}, ${STORM_LIMIT_PER_SECOND} calls per second:`);
		const apps = { 'ding-app-key': 'ding-app-secret', 'ding-warmup-key': 'ding-warmup-secret' };
		const conversations = { [BENCH_GROUP]: { kind: 'group', robots: [ROBOT] } };
		const server = await new DingTalkServer({ apps, robots: [ROBOT], conversations, latencyMs: LATENCY_MS, rateLimitPerSecond: STORM_LIMIT_PER_SECOND }).start();
		try {
			const recipients = Array.from({ length: run.recipients }, (_, index) => `user${index}`);
			const warmupKeys = recipients.slice(0, 20).map((userId) => `warm-${userId}`);
			const result = await runChild({
				approach: 'node',
				operation: run.operation,
				keys: recipients,
				warmupKeys,
				warmupApp: ['ding-warmup-key', 'ding-warmup-secret'],
				perItem: run.perItem,
				apiBaseUrl: server.apiBaseUrl,
				oapiBaseUrl: server.oapiBaseUrl,
			});
			const calls = server.callsTo(run.path).filter((call) => call.at >= result.measuredFrom);
			const admitted = calls.filter((call) => call.status !== 403).length;
			const floorMs = stormFloorMs(admitted);
			const received = run.operation === SEND_GROUP ? [server.received(BENCH_GROUP)] : recipients.map((userId) => server.received(userId));
			const row = {
				date: today(),
				what: run.what,
				latencyMs: LATENCY_MS,
				limitPerSecond: STORM_LIMIT_PER_SECOND,
				callsAdmitted: admitted,
				throttledCalls: calls.length - admitted,
				failed: result.failed,
				// The group also holds the warm-up's messages, one per warm-up item.
				everyoneOnce: run.operation === SEND_GROUP ? received[0] === run.recipients + warmupKeys.length : received.every((count) => count === 1),
				wallMs: Math.round(result.wallMs),
				floorMs,
				overFloor: ratio(result.wallMs, floorMs),
			};
			row.met = row.overFloor <= 1.1 && row.failed === 0 && row.everyoneOnce;
			console.error(`  ${row.what}: ${row.wallMs} ms, ${row.overFloor}× floor, ${row.throttledCalls} throttled / ${row.callsAdmitted} calls, ${row.failed} Failed`);
			rows.push(row);
		} finally {
			await server.stop();
		}
	}
	return rows;
}

function sendsMarkdown(sends) {
	return [
		`Sends, measured ${sends[0].date}: one execution of the Send node, the server allowing ${sends[0].limitPerSecond} calls per second. Floor = (⌈calls ÷ ${sends[0].limitPerSecond}⌉ − 1) s + one ${sends[0].latencyMs} ms round trip. Target: within 1.10× the floor, nothing Failed, every recipient (the group: every message) once.`,
		'',
		'| send | calls admitted | throttled answers | Failed | every recipient once | floor | wall time | wall ÷ floor | target |',
		'| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |',
		...sends.map((row) => `| ${row.what} | ${row.callsAdmitted} | ${row.throttledCalls} | ${row.failed} | ${row.everyoneOnce ? 'yes' : 'no'} | ${(row.floorMs / 1000).toFixed(2)} s | ${(row.wallMs / 1000).toFixed(2)} s | ${row.overFloor}× | ${row.met ? 'met' : 'missed'} |`),
	].join('\n');
}

function dingMarkdown(ding) {
	return [
		`DINGs, measured ${ding.date}: one execution recalls ${ding.dings} robot DING messages, one call each (DingTalk recalls one DING per call), the server allowing ${ding.limitPerSecond} calls per second. Floor = (⌈${ding.dings} ÷ ${ding.limitPerSecond}⌉ − 1) s + one ${ding.latencyMs} ms round trip. Target: within 1.10× the floor, nothing Failed.`,
		'',
		'| DINGs | calls admitted | throttled answers | Failed | every DING recalled | floor | wall time | wall ÷ floor | target |',
		'| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |',
		`| ${ding.dings} | ${ding.callsAdmitted} | ${ding.throttledCalls} | ${ding.failed} | ${ding.everyDingRecalled ? 'yes' : 'no'} | ${(ding.floorMs / 1000).toFixed(2)} s | ${(ding.wallMs / 1000).toFixed(2)} s | ${ding.overFloor}× | ${ding.met ? 'met' : 'missed'} |`,
	].join('\n');
}

const today = () => new Date().toISOString().slice(0, 10);
const machine = () => `${os.cpus().length} × ${os.cpus()[0].model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()}`;

async function main() {
	const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
	execFileSync('npm', ['run', 'build', '--silent'], { cwd: path.resolve(here, '../..'), stdio: ['ignore', 'ignore', 'inherit'] });
	const resultsFile = path.join(here, 'results.json');
	const previous = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : {};
	const { storms: previousStorms, ding: previousDing, sends: previousSends, ...previousSingle } = previous;
	const measures = (part) => !only || only === part;
	const single = measures('single') ? await measureSingleRuns() : previousSingle;
	const storms = measures('storms') ? await measureStorms() : previousStorms;
	const ding = measures('ding') ? await measureDing() : previousDing;
	const sends = measures('send') ? await measureSends() : previousSends;
	const report = { ...single, storms, ding, sends };
	const table = markdown(report);
	fs.writeFileSync(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
	fs.writeFileSync(path.join(here, 'results.md'), `${table}\n`);
	writeBetweenMarkers(path.resolve(here, '../../docs/benchmark.md'), 'bench', table);
	writeBetweenMarkers(path.resolve(here, '../../README.md'), 'bench-summary', summaryMarkdown(report));
	if (storms) writeBetweenMarkers(path.resolve(here, '../../docs/queue-mode.md'), 'queue-mode-bench', queueModeMarkdown(storms));
	console.log(table);
}

if (process.argv.includes('--storm-child')) {
	let input = '';
	let gos = 0;
	let used = 0;
	let wake = () => {};
	const nextGo = () =>
		new Promise((resolve) => {
			const check = () => (gos > used ? (used++, resolve()) : (wake = check));
			check();
		});
	let started = false;
	process.stdin.on('data', (chunk) => {
		input += chunk;
		if (!started && input.includes('\n')) {
			started = true;
			stormInChild(JSON.parse(input.slice(0, input.indexOf('\n'))), nextGo)
				.then(() => process.exit(0))
				.catch((error) => {
					console.error(error);
					process.exit(1);
				});
		}
		gos = (input.match(/^go$/gm) ?? []).length;
		wake();
	});
} else if (process.argv.includes('--child')) {
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
