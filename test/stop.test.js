'use strict';
/**
 * Stopping an execution (n8n's Stop button: the engine's cancel, which aborts the execution's signal) in
 * n8n's engine: no new call starts, calls waiting for a turn leave the shared pacer's queue, what the stop
 * aborted teaches the pacer nothing, and no repeat or status query runs. Real time, where its passing
 * is the point (nothing starts later), is waited for.
 */
const path = require('node:path');
const { useRealClock, startServer, credentialsFor, recallRobot, json, PATHS } = require('./support/fixture');

// What a stop cuts short is a matter of real time: backoffs that really wait, calls really in flight.
const nodeProcess = useRealClock();

const { Pacer } = require(path.resolve(__dirname, '../dist/nodes/DingTalk/transport/pacer.js'));

const pause = async (ms) => await new Promise((resolve) => setTimeout(resolve, ms));

/** Every key on exactly one output; Success only where DingTalk recalled it; recalled but not Success only with mayBeRecalled. */
function expectNothingMisreported(server, result, keys) {
	const outputs = [...json(result.success), ...json(result.failed)];
	expect(outputs.map((item) => item.processQueryKey).sort()).toEqual([...keys].sort());
	for (const item of json(result.success)) expect(server.isRecalled(item.processQueryKey)).toBe(true);
	for (const item of json(result.failed)) {
		if (server.isRecalled(item.processQueryKey)) expect(item.mayBeRecalled).toBe(true);
	}
}

describe('A stopped execution stops', () => {
	test('a storm stopped mid-run: nothing starts after the stop, and the next execution inherits the pacing a fresh process has', async () => {
		const server = await startServer({ rateLimitPerSecond: 20, latencyMs: 30 });
		const credentials = credentialsFor(server);
		const stops = [];
		let stoppedAt;
		const late = [];
		server.onRequest = (call) => {
			if (call.path !== PATHS.batchRecall) return;
			// Calls the node handed to n8n before the stop may still reach DingTalk; a call waiting for a turn would get it a window later.
			if (stoppedAt !== undefined && Date.now() > stoppedAt + 1000) late.push(call);
			// Stop both executions once DingTalk got 20 calls: the pacer's probes above the limit are on their way.
			if (server.callsTo(PATHS.batchRecall).length === 20) {
				stoppedAt = Date.now();
				for (const stop of stops) stop();
			}
		};
		const batches = [0, 1].map(() => server.sendRobotMessages('dingRobotA', 1000));

		const results = await Promise.all(
			batches.map(async (keys) => await recallRobot({ server, credentials, items: [{ keys }], options: { concurrency: 20 }, onStart: (stop) => stops.push(stop) })),
		);

		for (const [index, result] of results.entries()) {
			expect(result.run.status).toBe('canceled');
			expectNothingMisreported(server, result, batches[index]);
			// Keys whose calls never went are Failed as cancelled, and DingTalk did not recall them.
			const cancelled = json(result.failed).filter((item) => item.errorCode === 'cancelled' && !item.mayBeRecalled);
			expect(cancelled.length).toBeGreaterThan(500);
			for (const item of cancelled) expect(server.isRecalled(item.processQueryKey)).toBe(false);
		}
		// A window later, when waiting calls would have had room, nothing more has started.
		await pause(1300);
		server.onRequest = undefined;
		expect(late).toEqual([]);
		// At most the calls in flight when the stop came: Parallel Calls (20) per execution.
		expect(server.callsTo(PATHS.batchRecall).length).toBeLessThanOrEqual(40);
		expect(server.callsTo(PATHS.readStatus)).toEqual([]);

		// The pacer the next execution inherits is as DingTalk left it: what the stop aborted was not counted as admitted.
		const inherited = nodeProcess.pacer('app ding-app-key', `${server.apiBaseUrl}${PATHS.batchRecall}`);
		expect(inherited.callsPerWindow).toBe(new Pacer(nodeProcess.clock).callsPerWindow);
		const next = server.sendRobotMessages('dingRobotA', 400);
		const again = await recallRobot({ server, credentials, items: [{ keys: next }] });
		expect(again.failed).toEqual([]);
		expect(json(again.success).map((item) => item.processQueryKey)).toEqual(next);
	});

	test('a stop during a backoff: no repeat is sent and the key is Failed as cancelled, not recalled', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 3);
		server.injectFault(PATHS.batchRecall, '500', 10);
		let stop;
		// Stopped once the 500 is answered and the node waits before its repeat.
		server.onRequest = (call) => call.path === PATHS.batchRecall && setTimeout(stop, 50);

		const result = await recallRobot({ server, items: [{ keys }], options: { retryDelay: 2000 }, onStart: (s) => (stop = s) });
		await pause(50);

		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(1);
		expect(json(result.failed).map((item) => [item.errorCode, item.mayBeRecalled])).toEqual(keys.map(() => ['cancelled', undefined]));
		expect(keys.some((key) => server.isRecalled(key))).toBe(false);
	});

	test('a stop during the wait a ban page asks for (30 s) and during a backoff: the stop clears the timers, nothing waits on', async () => {
		const server = await startServer({ banWaitSeconds: 30 });
		const timersRunning = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
		for (const [fault, options] of [['ban', {}], ['500', { retryDelay: 8000 }]]) {
			const keys = server.sendRobotMessages('dingRobotA', 2);
			server.injectFault(PATHS.batchRecall, fault, 1);
			let stop;
			server.onRequest = (call) => call.path === PATHS.batchRecall && setTimeout(stop, 50);
			await pause(10);
			const before = timersRunning();

			const result = await recallRobot({ server, items: [{ keys }], options, onStart: (s) => (stop = s) });
			await pause(20);

			expect(json(result.failed).map((item) => item.errorCode)).toEqual(['cancelled', 'cancelled']);
			// The wait's timer (up to 30 s) is gone with the stop, not left to run out.
			expect(timersRunning()).toBeLessThanOrEqual(before);
		}
	});

	test('a stop while an answer is outstanding: the call is aborted, its keys Failed with mayBeRecalled, and no status query runs', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 2);
		server.injectFault(PATHS.batchRecall, 'lostAnswerTimeout', 1); // DingTalk recalls, the answer never comes
		let stop;
		server.onRequest = (call) => call.path === PATHS.batchRecall && setTimeout(stop, 20);

		const result = await recallRobot({ server, items: [{ keys }], options: { timeout: 60_000 }, onStart: (s) => (stop = s) });
		await pause(50);

		expect(keys.every((key) => server.isRecalled(key))).toBe(true);
		expect(result.success).toEqual([]);
		expect(json(result.failed).map((item) => [item.errorCode, item.mayBeRecalled])).toEqual(keys.map(() => ['cancelled', true]));
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(1);
		expect(server.callsTo(PATHS.readStatus)).toEqual([]);
	});

	test('a stop while the token request is on its way: no recall call went, so no key is marked mayBeRecalled', async () => {
		const server = await startServer({ latencyMs: 300 });
		const [key] = server.sendRobotMessages('dingRobotA', 1);
		let stop;
		server.onRequest = (call) => call.path === PATHS.accessToken && setTimeout(stop, 50);

		const result = await recallRobot({ server, items: [{ keys: key }], onStart: (s) => (stop = s) });

		expect(server.callsTo(PATHS.batchRecall)).toEqual([]);
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: key, errorCode: 'cancelled' })]);
		expect(json(result.failed)[0]).not.toHaveProperty('mayBeRecalled');
	});

	test('a stopped execution’s token request that n8n finishes later does not replace the token another execution renewed meanwhile', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server);
		let stopFirst;
		let tokenRequests = 0;
		server.onRequest = (call) => {
			if (call.path !== PATHS.accessToken) return void (server.latencyMs = 300);
			tokenRequests++;
			server.latencyMs = tokenRequests === 1 ? 1000 : 20;
			if (tokenRequests !== 1) return;
			// The first execution is stopped while its token request is on its way; DingTalk voids the token after that request is answered.
			setTimeout(() => stopFirst(), 50);
			setTimeout(() => server.expireAllTokens(), 1050);
		};
		const [first] = server.sendRobotMessages('dingRobotA', 1);
		const keys = server.sendRobotMessages('dingRobotA', 1000);

		const stopped = recallRobot({ server, credentials, items: [{ keys: first }], onStart: (stop) => (stopFirst = stop) });
		await pause(5);
		const result = await recallRobot({ server, credentials, items: keys.map((key) => ({ keys: key })) });

		expect(json((await stopped).failed)).toEqual([expect.objectContaining({ processQueryKey: first, errorCode: 'cancelled' })]);
		// The second execution renewed in the first one's place, and again once DingTalk voided that token: every key recalled.
		expect(result.error).toBeUndefined();
		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(keys);
		expect(server.tokenFetches).toBe(3);
	});

	test('a stopped execution’s token request that n8n finishes later leaves the token n8n stored meanwhile in place', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server);
		let tokenRequests = 0;
		let stopFirst;
		server.onRequest = (call) => {
			if (call.path !== PATHS.accessToken) return void (server.latencyMs = 0);
			tokenRequests++;
			server.latencyMs = tokenRequests === 1 ? 1000 : 20;
			if (tokenRequests === 1) setTimeout(() => stopFirst(), 50);
		};
		const stopped = recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessages('dingRobotA', 1) }], onStart: (stop) => (stopFirst = stop) });
		await pause(5);
		const other = await recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessages('dingRobotA', 5) }] });
		const renewed = credentials.dataOf('cred-1').accessToken;
		await stopped;
		// The stopped execution's token request is answered a second after it went, and n8n stores what it got.
		await pause(1200);

		expect(other.success).toHaveLength(5);
		expect(tokenRequests).toBe(2);
		expect(renewed).toMatch(/^[0-9a-f]{32}$/);
		expect(credentials.dataOf('cred-1').accessToken).toBe(renewed);
	});

	test('a stop while the execution waits for another execution’s token request: it ends at once, not when that request does', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server);
		// The token API never answers the first request (n8n gives up on it after 15 s).
		server.injectFault(PATHS.accessToken, 'timeout', 1);
		let stopCarrier;
		let stopWaiter;
		const carrier = recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessages('dingRobotA', 2) }], onStart: (stop) => (stopCarrier = stop) });
		await pause(30);
		const [key] = server.sendRobotMessages('dingRobotA', 1);
		const waiter = recallRobot({ server, credentials, items: [{ keys: key }], onStart: (stop) => (stopWaiter = stop) });
		await pause(100);
		const stoppedAt = Date.now();
		stopWaiter();

		const result = await waiter;
		const endedAfterMs = Date.now() - stoppedAt;
		stopCarrier();
		await carrier;

		expect(endedAfterMs).toBeLessThan(2_000);
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: key, errorCode: 'cancelled' })]);
		expect(server.callsTo(PATHS.batchRecall)).toEqual([]);
	}, 30_000);

	test('a stop while the token API never answers: the execution ends at once, not when the token request times out (15 s)', async () => {
		const server = await startServer();
		const [key] = server.sendRobotMessages('dingRobotA', 1);
		server.injectFault(PATHS.accessToken, 'timeout', 1);
		let stop;
		let stoppedAt;
		server.onRequest = (call) =>
			call.path === PATHS.accessToken &&
			setTimeout(() => {
				stoppedAt = Date.now();
				stop();
			}, 50);

		const result = await recallRobot({ server, items: [{ keys: key }], onStart: (s) => (stop = s) });

		expect(Date.now() - stoppedAt).toBeLessThan(5_000);
		expect(json(result.failed)).toEqual([expect.objectContaining({ errorCode: 'cancelled' })]);
	}, 30_000);
});

describe('The waits a stop ends, on n8n 1.x as on 2.x', () => {
	const { getEventListeners } = require('node:events');
	const { waitOn } = require(path.resolve(__dirname, '../dist/credentials/DingTalkClock.js'));
	// n8n-workflow 1.123's own two waits, as it exports them: `sleep` ignores a signal; `sleepWithAbort` clears
	// its timer when the signal aborts, and leaves its listener on the signal when it does not.
	const n8n1 = {
		sleep: async (ms) => await new Promise((resolve) => setTimeout(resolve, ms)),
		sleepWithAbort: async (ms, abortSignal) =>
			await new Promise((resolve, reject) => {
				if (abortSignal?.aborted) return reject(new Error('cancelled'));
				const timeout = setTimeout(resolve, ms);
				abortSignal?.addEventListener('abort', () => (clearTimeout(timeout), reject(new Error('cancelled'))), { once: true });
			}),
	};
	const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

	test('a stop ends a 30 s wait at once and leaves no timer running', async () => {
		const wait = waitOn(n8n1);
		const stop = new AbortController();
		const before = timers();
		const waited = wait(30_000, stop.signal);
		expect(timers()).toBe(before + 1);
		const stoppedAt = Date.now();
		stop.abort();
		await waited;
		expect(Date.now() - stoppedAt).toBeLessThan(1_000);
		expect(timers()).toBe(before);
	});

	test('waits that run out leave no listener on the execution’s signal (a run can wait hundreds of times)', async () => {
		const wait = waitOn(n8n1);
		const execution = new AbortController();
		for (let index = 0; index < 20; index++) await wait(1, execution.signal);
		expect(getEventListeners(execution.signal, 'abort')).toHaveLength(0);
	});
});

