'use strict';
/**
 * One token per process: executions in one n8n process share their app's access token, so an expiry
 * costs one renewal however many executions meet it, and an execution whose stored token is older than
 * the process's uses the process's. In n8n's engine against the DingTalk-compatible server.
 */
const { startServer, credentialsFor, recallRobot, recallWork, json, PATHS, currentClock } = require('./support/fixture');
const { CredentialsHelper } = require('./support/n8n-harness');

const AGENT = 836390886;

describe('One token per process', () => {
	test('8 executions start at once on a token DingTalk voided: one renewal for all, every key recalled', async () => {
		const server = await startServer({ latencyMs: 2 });
		const credentials = credentialsFor(server, { accessToken: 'voided-token', renewAt: currentClock().now() + 3_600_000 });
		const keys = Array.from({ length: 8 }, () => server.sendRobotMessages('dingRobotA', 60));

		const results = await Promise.all(keys.map((own) => recallRobot({ server, credentials, items: [{ keys: own }] })));

		for (const [index, result] of results.entries()) {
			expect(result.failed).toEqual([]);
			expect(json(result.success).map((item) => item.processQueryKey)).toEqual(keys[index]);
		}
		expect(server.tokenFetches).toBe(1);
	});

	test('back to back, an execution whose stored token is older than the process’s uses the process’s: no second renewal', async () => {
		const server = await startServer();
		const stale = { accessToken: 'voided-token', renewAt: currentClock().now() + 3_600_000 };
		// Two credential records of one app, both holding the voided token (two workflows' credentials, or a stale read).
		const first = credentialsFor(server, stale);
		const second = credentialsFor(server, stale);

		const one = await recallRobot({ server, credentials: first, items: [{ keys: server.sendRobotMessages('dingRobotA', 3) }] });
		const two = await recallRobot({ server, credentials: second, items: [{ keys: server.sendRobotMessages('dingRobotA', 3) }] });

		expect([one.success.length, two.success.length, one.failed.length, two.failed.length]).toEqual([3, 3, 0, 0]);
		expect(server.tokenFetches).toBe(1);
		// The second execution's calls all went with the renewed token: none was refused on the voided one.
		const refused = server.callsTo(PATHS.batchRecall).filter((call) => call.code === 'InvalidAuthentication');
		expect(refused).toHaveLength(1);
	});

	test('a stored token from another credential record that DingTalk refuses is renewed, not reported as a fresh token refused', async () => {
		const server = await startServer();
		const current = credentialsFor(server);
		// A second record of the same app still holds a token DingTalk voided, not yet due.
		const stale = credentialsFor(server, { accessToken: 'voided-token', renewAt: currentClock().now() + 3_600_000 });
		await recallRobot({ server, credentials: current, items: [{ keys: server.sendRobotMessages('dingRobotA', 3) }] });
		server.expireAllTokens();

		const keys = server.sendRobotMessages('dingRobotA', 3);
		const result = await recallRobot({ server, credentials: stale, items: [{ keys }] });

		expect(result.error).toBeUndefined();
		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(keys);
		expect(server.tokenFetches).toBe(2);
	});

	test('calls waiting for their turn while the token is renewed go with the new token: only calls already on their way are refused', async () => {
		// 8 executions × 100 keys: 40 calls at DingTalk's 20 a second, so most wait in the pacer's queue.
		const server = await startServer({ rateLimitPerSecond: 20, latencyMs: 30 });
		const credentials = credentialsFor(server);
		const keys = Array.from({ length: 8 }, () => server.sendRobotMessages('dingRobotA', 100));
		let admitted = 0;
		server.onRequest = (call) => {
			if (call.path === PATHS.batchRecall && call.headerToken && ++admitted === 5) server.expireAllTokens();
		};

		const results = await Promise.all(keys.map((own) => recallRobot({ server, credentials, items: [{ keys: own }] })));

		expect(results.every((result) => result.failed.length === 0 && result.success.length === 100)).toBe(true);
		expect(server.tokenFetches).toBe(2);
		// Refused on the expired token: the calls on their way when it expired, and those whose turn came
		// while the one renewal was under way; none that waited past it (a call's token taken at its turn:
		// all 40 were refused when each took its token before the wait).
		const refused = server.callsTo(PATHS.batchRecall).filter((call) => call.code === 'InvalidAuthentication');
		expect(refused.length).toBeGreaterThan(0);
		expect(refused.length).toBeLessThanOrEqual(10);
	});

	test('a token that expires in the middle of a storm of executions is renewed once for the process', async () => {
		const server = await startServer({ latencyMs: 2 });
		const credentials = credentialsFor(server);
		const keys = Array.from({ length: 6 }, () => server.sendRobotMessages('dingRobotA', 100));
		let recalls = 0;
		server.onRequest = (call) => {
			if (call.path === PATHS.batchRecall && ++recalls === 12) server.expireAllTokens();
		};

		const results = await Promise.all(keys.map((own) => recallRobot({ server, credentials, items: [{ keys: own }] })));

		expect(results.every((result) => result.failed.length === 0 && result.success.length === 100)).toBe(true);
		expect(server.tokenFetches).toBe(2); // the first token, then one renewal
	});

	test('the oapi host shares the token: a work notification run after a robot run fetches none', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server);
		await recallRobot({ server, credentials: credentialsFor(server), items: [{ keys: server.sendRobotMessages('dingRobotA', 2) }] });
		const taskId = server.sendWorkNotification(AGENT);

		const work = await recallWork({ server, credentials, items: [{ agentId: AGENT, taskId }] });

		expect(json(work.success)).toEqual([expect.objectContaining({ msgTaskId: taskId, recalled: true })]);
		expect(server.tokenFetches).toBe(1);
	});

	test('a credential with the same client ID but a wrong secret gets no token from the process: DingTalk refuses it', async () => {
		const server = await startServer();
		await recallRobot({ server, items: [{ keys: server.sendRobotMessages('dingRobotA', 2) }] });
		const wrong = new CredentialsHelper();
		wrong.add('cred-1', server.credentialData({ clientSecret: 'not-the-secret' }));

		const result = await recallRobot({ server, credentials: wrong, items: [{ keys: server.sendRobotMessages('dingRobotA', 2) }] });

		expect(result.error.name).toBe('NodeApiError');
		expect(result.error.message).toMatch(/invalidClientIdOrSecret/);
		expect(server.callsTo(PATHS.batchRecall).filter((call) => call.headerToken === undefined)).toHaveLength(0);
	});
});
