'use strict';
/**
 * The packed package in n8n queue mode: main and three `n8n worker` processes on PostgreSQL and Redis.
 * A webhook-triggered recall workflow gets 20 requests at once, 50 keys each, against the
 * DingTalk-compatible server limited to 20 calls per second, and the token n8n stored expires in the
 * middle of that storm. Every key must come out recalled exactly once and on Success, every worker must
 * run executions and use the renewed token, that token must be the one stored in Postgres, and the
 * workers fetch at most one token each for the expiry. The throttled share of the calls is reported.
 */
const path = require('node:path');
const { DingTalkServer, PATHS } = require('../support/dingtalk-server');
const { QueueStack } = require('./queue-stack');

const CREDENTIAL = { id: 'dtQueueCredent01', name: 'DingTalk queue-mode app' };
const NODE_NAME = 'DingTalk Recall Message';
const WORKFLOW_ID = 'dtQueueRecall001';
const WEBHOOK_PATH = 'dingtalk-recall-queue';
const RATE_LIMIT = 20;
const EXECUTIONS = 20;
const KEYS_EACH = 50;
/** The stored token expires once this many of the storm's recall calls have been admitted. */
const EXPIRE_AFTER_CALLS = 20;
const WORKERS = 3;
/** Three workers of 7 take all 20 executions at once, and none can take them all: each runs some. */
const WORKER_CONCURRENCY = 7;

/** Webhook (answers with the recall node's Success items once it finishes) → DingTalk Recall Message. */
const WORKFLOW = {
	id: WORKFLOW_ID,
	name: 'DingTalk recall in queue mode',
	active: false,
	settings: { executionOrder: 'v1' },
	nodes: [
		{
			id: 'q1',
			name: 'Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: '5d0c8f3e-1f7a-4d0a-9a43-2b7a4f1c9e01',
			parameters: { httpMethod: 'POST', path: WEBHOOK_PATH, responseMode: 'lastNode', responseData: 'allEntries', options: {} },
		},
		{
			id: 'q2',
			name: NODE_NAME,
			type: 'n8n-nodes-dingtalk-recall.dingTalkRecallMessage',
			typeVersion: 1,
			position: [300, 0],
			parameters: { operation: 'recallRobotOneOnOneMessages', robotCode: 'dingRobotA', processQueryKeys: '={{ $json.body.keys }}', options: {} },
			credentials: { dingTalkApi: CREDENTIAL },
		},
	],
	connections: { Webhook: { main: [[{ node: NODE_NAME, type: 'main', index: 0 }]] } },
};

describe('the packed package in n8n 2.41.1 queue mode (main, three workers, PostgreSQL, Redis)', () => {
	let server;
	let stack;

	beforeAll(async () => {
		server = await new DingTalkServer({ batchMode: 'lenient', rateLimitPerSecond: RATE_LIMIT }).start();
		stack = new QueueStack({ workers: WORKERS, concurrency: WORKER_CONCURRENCY });
		await stack.start({
			credentials: [{ ...CREDENTIAL, type: 'dingTalkApi', data: server.credentialData() }],
			workflows: [WORKFLOW],
		});
	}, 900_000);

	afterAll(async () => {
		await stack?.stop();
		await server?.stop();
	}, 120_000);

	/** How long a webhook caller waits for n8n's answer before it reads the execution n8n saved. */
	const ANSWER_WAIT_MS = 60_000;

	/**
	 * POSTs keys to the workflow's production webhook; the answer is the recall node's Success items. n8n's
	 * queue mode can lose a lastNode webhook's answer (seen once in about a dozen runs here, before the
	 * storm, on a 5-key run): then the execution n8n saved says what the node did. One not finished fails.
	 */
	async function recall(keys) {
		let response;
		try {
			response = await fetch(`${stack.baseUrl}/webhook/${WEBHOOK_PATH}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ keys }),
				signal: AbortSignal.timeout(ANSWER_WAIT_MS),
			});
		} catch (error) {
			if (error.name !== 'TimeoutError') throw error;
			let execution;
			for (const deadline = Date.now() + 30_000; execution?.status !== 'success' && Date.now() < deadline; ) {
				await new Promise((resolve) => setTimeout(resolve, 1000));
				execution = (await savedExecutions()).find((candidate) => candidate.keys[0] === keys[0]);
			}
			if (execution?.status !== 'success') {
				throw new Error(`n8n did not answer the webhook in ${ANSWER_WAIT_MS / 1000} s; its execution is ${execution?.status ?? 'not saved with its data (still running?)'}`);
			}
			console.log(`n8n did not answer the webhook of execution ${execution.id}, which succeeded: its saved Success items stand for the answer`);
			return execution.success;
		}
		const text = await response.text();
		if (!response.ok) throw new Error(`webhook answered ${response.status}: ${text.slice(0, 500)}`);
		return JSON.parse(text);
	}

	/** The first request waits, if need be, until main has registered the published workflow's webhook. */
	async function firstRecall(keys) {
		const deadline = Date.now() + 60_000;
		for (;;) {
			try {
				return await recall(keys);
			} catch (error) {
				if (!/answered 404/.test(error.message) || Date.now() > deadline) throw error;
				await new Promise((resolve) => setTimeout(resolve, 500));
			}
		}
	}

	async function storedToken() {
		const credentials = await stack.cli.exportCredentials();
		return credentials.find((credential) => credential.id === CREDENTIAL.id).data.accessToken;
	}

	/** Every execution of the workflow saved in Postgres: the keys its webhook got and the recall node's two outputs. */
	async function savedExecutions() {
		const { parse } = require(require.resolve('flatted', { paths: [path.join(stack.cli.n8nDir, 'node_modules/n8n')] }));
		const rows = await stack.query(
			`SELECT e.id, e.status, d.data FROM execution_entity e JOIN execution_data d ON d."executionId" = e.id
			 WHERE e."workflowId" = $1 ORDER BY e.id`,
			[WORKFLOW_ID],
		);
		return rows.map(({ id, status, data }) => {
			const { runData = {} } = parse(data).resultData ?? {};
			const [success = [], failed = []] = runData[NODE_NAME]?.[0]?.data?.main ?? [];
			return {
				id: String(id),
				status,
				// An execution still running has no webhook data yet.
				keys: runData.Webhook?.[0]?.data?.main?.[0]?.[0]?.json?.body?.keys ?? [],
				success: success.map((item) => item.json),
				failed: failed.map((item) => item.json),
			};
		});
	}

	test('20 webhook executions at once, 50 keys each, at 20 calls/s, the token expiring mid-storm', async () => {
		// Before the storm: one execution fetches the token, which n8n stores in Postgres; three more time a round trip.
		const warmUpKeys = server.sendRobotMessages('dingRobotA', 5);
		expect((await firstRecall(warmUpKeys)).map((item) => item.processQueryKey)).toEqual(warmUpKeys);
		const firstToken = await storedToken();
		expect(firstToken).toBe(server.callsTo(PATHS.batchRecall)[0].headerToken);
		const roundTrips = [];
		for (let index = 0; index < 3; index++) {
			const keys = server.sendRobotMessages('dingRobotA', 5);
			const started = performance.now();
			expect((await recall(keys)).map((item) => item.processQueryKey)).toEqual(keys);
			roundTrips.push(performance.now() - started);
		}
		const roundTripMs = roundTrips.sort((a, b) => a - b)[1];

		// The storm. DingTalk's token expires at a moment its holder cannot know: here, once 20 of the
		// storm's recall calls are through.
		const batches = Array.from({ length: EXECUTIONS }, () => server.sendRobotMessages('dingRobotA', KEYS_EACH));
		const fetchesBefore = server.tokenFetches;
		const callsBefore = server.calls.length;
		const stormCalls = () => server.calls.slice(callsBefore).filter((call) => call.path === PATHS.batchRecall);
		let expiredAt;
		const expiry = setInterval(() => {
			if (stormCalls().filter((call) => call.status === 200).length < EXPIRE_AFTER_CALLS) return;
			server.expireAllTokens();
			expiredAt = Date.now();
			clearInterval(expiry);
		}, 5);
		const startedAt = Date.now();
		const started = performance.now();
		let answers;
		try {
			answers = await Promise.all(batches.map((keys) => recall(keys)));
		} finally {
			clearInterval(expiry);
		}
		const stormMs = performance.now() - started;

		// What each webhook caller got: its 50 keys, recalled.
		answers.forEach((items, index) => {
			expect(items.map((item) => item.processQueryKey)).toEqual(batches[index]);
			expect(items.every((item) => item.recalled === true && item.robotCode === 'dingRobotA')).toBe(true);
		});

		// What n8n saved: every storm execution succeeded, all keys on Success, none on Failed.
		const executions = await savedExecutions();
		const stormExecutions = batches.map((keys) => {
			const execution = executions.find((candidate) => candidate.keys[0] === keys[0]);
			expect(execution).toBeDefined();
			expect(execution.status).toBe('success');
			expect(execution.failed).toEqual([]);
			expect(execution.success.map((item) => item.processQueryKey)).toEqual(keys);
			return execution;
		});

		// What DingTalk saw: each key in exactly one admitted call, and recalled.
		const calls = stormCalls();
		const admitted = calls.filter((call) => call.status === 200);
		const timesSent = new Map();
		for (const call of admitted) for (const key of call.body.processQueryKeys) timesSent.set(key, (timesSent.get(key) ?? 0) + 1);
		const allKeys = batches.flat();
		expect(timesSent.size).toBe(allKeys.length);
		expect(allKeys.every((key) => timesSent.get(key) === 1 && server.isRecalled(key))).toBe(true);
		expect(admitted.flatMap((call) => call.recalledKeys).sort()).toEqual([...allKeys].sort());

		// Every worker ran storm executions; each execution ran on exactly one of them.
		const byWorker = stack.executionsByWorker();
		const workerOf = new Map();
		for (const execution of stormExecutions) {
			const workers = byWorker.map((ids, index) => (ids.has(execution.id) ? index : -1)).filter((index) => index >= 0);
			expect(workers).toHaveLength(1);
			workerOf.set(execution, workers[0]);
		}
		const perWorker = byWorker.map((_, index) => stormExecutions.filter((execution) => workerOf.get(execution) === index).length);
		expect(perWorker.every((count) => count > 0)).toBe(true);

		// The token expired mid-storm: calls were admitted with it, then refused; one renewed token carried
		// every admitted call after that, from every worker, and it is the token stored in Postgres.
		expect(expiredAt).toBeDefined();
		const rejected = calls.filter((call) => call.status === 400);
		expect(rejected.length).toBeGreaterThan(0);
		expect(rejected.every((call) => call.headerToken === firstToken)).toBe(true);
		const renewedToken = admitted[admitted.length - 1].headerToken;
		expect(renewedToken).not.toBe(firstToken);
		expect(new Set(admitted.map((call) => call.headerToken))).toEqual(new Set([firstToken, renewedToken]));
		expect(admitted.filter((call) => call.headerToken === firstToken).length).toBeGreaterThanOrEqual(EXPIRE_AFTER_CALLS);
		const executionOfKey = new Map(stormExecutions.flatMap((execution) => execution.keys.map((key) => [key, execution])));
		const workersUsingRenewed = new Set(
			admitted.filter((call) => call.headerToken === renewedToken).map((call) => workerOf.get(executionOfKey.get(call.body.processQueryKeys[0]))),
		);
		expect([...workersUsingRenewed].sort()).toEqual([0, 1, 2]);
		expect(await storedToken()).toBe(renewedToken);

		// One token per process: the expiry costs each worker at most one token request (one that finds a
		// token another worker stored in Postgres takes that one instead).
		const tokenFetches = server.tokenFetches - fetchesBefore;
		expect(tokenFetches).toBeGreaterThanOrEqual(1);
		expect(tokenFetches).toBeLessThanOrEqual(WORKERS);

		const needed = EXECUTIONS * Math.ceil(KEYS_EACH / 20);
		const floorMs = (Math.ceil(needed / RATE_LIMIT) - 1) * 1000 + roundTripMs;
		const throttled = calls.filter((call) => call.status === 403).length;
		console.log(
			[
				`queue mode: ${EXECUTIONS} executions × ${KEYS_EACH} keys, ${needed} recall calls needed at ${RATE_LIMIT} calls/s`,
				`storm ${(stormMs / 1000).toFixed(2)} s; floor ${(floorMs / 1000).toFixed(2)} s (${Math.ceil(needed / RATE_LIMIT) - 1} s + one round trip of ${Math.round(roundTripMs)} ms); storm ÷ floor ${(stormMs / floorMs).toFixed(2)}`,
				`first recall call ${((calls[0].at - startedAt) / 1000).toFixed(2)} s after the requests, last ${((calls[calls.length - 1].at - startedAt) / 1000).toFixed(2)} s`,
				`recall calls made ${calls.length}: ${admitted.length} admitted, ${throttled} throttled (${((100 * throttled) / calls.length).toFixed(1)} % of the calls), ${rejected.length} refused on the expired token`,
				`token fetches for the expiry: ${tokenFetches} (at most one per worker: ${WORKERS}); executions per worker: ${perWorker.join(' / ')}`,
			].join('\n'),
		);
	});
});
