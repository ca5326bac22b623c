'use strict';
const { startServer, credentialsFor, recallRobot, recallWork, json, PATHS } = require('./support/fixture');

/** Fast repeats, so fault tests take milliseconds per retry instead of DingTalk-friendly half seconds. */
const FAST = { retryDelay: 5 };

describe('Nothing lost: throttling, faults and configuration errors', () => {
	let server;

	test('1,000 keys against a server limited to 20 calls per second: every key recalled, none Failed', async () => {
		server = await startServer({ rateLimitPerSecond: 20 });
		const keys = server.sendRobotMessages('dingRobotA', 1000);

		const result = await recallRobot({ server, items: keys.map((key) => ({ keys: key })) });

		expect(result.failed).toHaveLength(0);
		expect(result.success).toHaveLength(1000);
		expect(keys.every((key) => server.isRecalled(key))).toBe(true);
		const calls = server.callsTo(PATHS.batchRecall);
		const throttled = calls.filter((call) => call.status === 403);
		expect(calls.length - throttled.length).toBe(50);
		// The node learns the limit from the first throttling answers instead of hammering it.
		expect(throttled.length).toBeLessThanOrEqual(10);
	});

	test.each([
		['429 system.busy', '429', 2],
		['the IP-ban answer {status: 1111}', 'ban', 1],
		['HTTP 500 system.error', '500', 3],
		['a 502 HTML page', '502', 2],
		['an HTML page with status 200', 'html', 2],
		['an empty body', 'empty', 2],
		['a dropped connection', 'drop', 3],
	])('robot recall: %s is repeated and the keys still recalled', async (_name, fault, count) => {
		server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 45);
		server.injectFault(PATHS.batchRecall, fault, count);

		const result = await recallRobot({ server, items: [{ keys }], options: FAST });

		expect(result.failed).toHaveLength(0);
		expect(result.success).toHaveLength(45);
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(3 + count);
	});

	test.each([
		['errcode -1 (system busy)', 'systemBusy'],
		['errcode 90018 style throttling via 503 page', '503'],
		['a dropped connection', 'drop'],
	])('work notification: %s is repeated and the notification recalled', async (_name, fault) => {
		server = await startServer();
		const taskId = server.sendWorkNotification('836390886');
		server.injectFault(PATHS.workNotificationRecall, fault, 1);
		const result = await recallWork({ server, items: [{ agentId: 836390886, taskId }], options: FAST });
		expect(json(result.success)).toEqual([expect.objectContaining({ msgTaskId: taskId, recalled: true })]);
		expect(server.callsTo(PATHS.workNotificationRecall)).toHaveLength(2);
	});

	test.each([
		['500', 'system.error'],
		['502', 'invalidResponse'],
		['html', 'invalidResponse'],
		['empty', 'invalidResponse'],
		['drop', 'network'],
		['timeout', 'timeout'],
	])('a fault that outlasts the retries (%s) sends each key of the call to Failed as %s, and other calls still work', async (fault, code) => {
		server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 30);
		server.injectFault(PATHS.batchRecall, fault, 3); // the first call and its 2 retries

		const result = await recallRobot({
			server,
			items: [{ keys }],
			options: { ...FAST, maxRetries: 2, concurrency: 1, timeout: 300 },
		});

		expect(result.success).toHaveLength(10);
		expect(result.failed).toHaveLength(20);
		for (const item of json(result.failed)) {
			expect(item.errorCode).toBe(code);
			expect(item.errorMessage).toMatch(/even after retries/);
		}
		expect(keys.slice(20).every((key) => server.isRecalled(key))).toBe(true);
	});

	test('DingTalk throttling that never ends: bounded waits, then Failed with the throttling code', async () => {
		server = await startServer();
		server.injectFault(PATHS.batchRecall, '429', 100);
		const keys = server.sendRobotMessages('dingRobotA', 3);
		const started = Date.now();
		const result = await recallRobot({ server, items: [{ keys }] });
		expect(json(result.failed).map((item) => item.errorCode)).toEqual(['system.busy', 'system.busy', 'system.busy']);
		expect(result.failed[0].json.errorMessage).toMatch(/kept throttling/);
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(9); // 1 + 8 repeats
		expect(Date.now() - started).toBeLessThan(60_000);
	}, 90_000);

	describe('configuration errors stop the node with what to fix, without a retry storm', () => {
		test.each([
			['missing permission', { permissions: { robot: false } }, /Forbidden\.AccessDenied\.AccessTokenPermissionDenied/, /qyapi_robot_sendmsg/],
			['IP not on the allow-list', { permissions: { ipAllowed: false } }, /IpNotInWhiteList/, /allow-list/],
		])('robot recall: %s', async (_name, options, message, description) => {
			server = await startServer(options);
			const keys = server.sendRobotMessages('dingRobotA', 200);
			const result = await recallRobot({ server, items: [{ keys }] });
			expect(result.error.name).toBe('NodeApiError');
			expect(result.error.message).toMatch(message);
			expect(result.error.description).toMatch(description);
			expect(server.callsTo(PATHS.batchRecall).length).toBeLessThanOrEqual(5);
		});

		test('an unknown robotCode fails that robot’s keys with what to fix, without stopping the run', async () => {
			server = await startServer();
			const result = await recallRobot({ server, items: [{ keys: 'k1,k2' }], robotCode: 'dingNoSuchRobot' });
			expect(result.error).toBeUndefined();
			expect(json(result.failed).map((item) => item.errorCode)).toEqual(['invalidParameter.robotCode', 'invalidParameter.robotCode']);
			expect(json(result.failed)[0].errorMessage).toMatch(/RobotCode from the developer console/);
			expect(server.callsTo(PATHS.batchRecall)).toHaveLength(1);
		});

		test('work notification: IP not on the allow-list (errcode 60020)', async () => {
			server = await startServer({ permissions: { ipAllowed: false } });
			const result = await recallWork({ server, items: [{ agentId: 836390886, taskId: 1 }, { agentId: 836390886, taskId: 2 }] });
			expect(result.error.message).toMatch(/60020/);
			expect(result.error.description).toMatch(/allow-list/);
		});

		test('with Continue On Fail every key goes to Failed with the error’s code; keys of a healthy robot are still recalled', async () => {
			server = await startServer({ robots: ['dingRobotA'] });
			const good = server.sendRobotMessages('dingRobotA', 3);
			const items = [
				...good.map((key) => ({ robot: 'dingRobotA', keys: key })),
				{ robot: 'dingGone', keys: 'x1,x2' },
			];
			const result = await recallRobot({ server, items, robotCode: '={{ $json.robot }}', continueOnFail: true, options: { concurrency: 1 } });
			expect(result.error).toBeUndefined();
			expect(json(result.success).map((item) => item.processQueryKey)).toEqual(good);
			expect(json(result.failed)).toEqual([
				expect.objectContaining({ processQueryKey: 'x1', errorCode: 'invalidParameter.robotCode' }),
				expect.objectContaining({ processQueryKey: 'x2', errorCode: 'invalidParameter.robotCode' }),
			]);
		});
	});

	test('no secret or token in any output item or error, whatever happened', async () => {
		server = await startServer({ apps: { 'ding-app-key': 'S3cr3t-App-Secret' }, batchMode: 'strict' });
		const credentials = credentialsFor(server, { clientSecret: 'S3cr3t-App-Secret' });
		const runs = [];
		runs.push(await recallRobot({ server, credentials, items: [{ keys: [...server.sendRobotMessages('dingRobotA', 5), 'bad', null] }] }));
		server.injectFault(PATHS.batchRecall, 'drop', 5);
		runs.push(await recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessages('dingRobotA', 2) }], options: { ...FAST, maxRetries: 1 } }));
		server.expireAllTokens();
		runs.push(await recallWork({ server, credentials, items: [{ agentId: 836390886, taskId: 5 }] }));
		server.permissions.robot = false;
		runs.push(await recallRobot({ server, credentials, items: [{ keys: 'k' }] }));
		runs.push(await recallRobot({ server, credentials: credentialsFor(server, { clientSecret: 'S3cr3t-Wrong' }), items: [{ keys: 'k' }] }));

		const tokens = [...server.tokens.keys()];
		expect(tokens.length).toBeGreaterThan(0);
		for (const run of runs) {
			const text = JSON.stringify([run.success, run.failed, run.error, run.error?.message, run.error?.description, run.run]);
			expect(text).not.toContain('S3cr3t');
			for (const token of tokens) expect(text).not.toContain(token);
		}
	});
});
