'use strict';
/**
 * DingTalk's real answers (as recorded in logs, probes and its SDKs, where they differ from its
 * documentation) and outcomes that stay unclear after the retries, in n8n's engine against the
 * DingTalk-compatible server. Each test asserts what the user sees on the two outputs and what the
 * server recorded.
 */
const { startServer, credentialsFor, recallRobot, recallWork, json, PATHS, ROBOT } = require('./support/fixture');

/** Fast repeats, so fault tests take milliseconds per retry. */
const FAST = { retryDelay: 5 };

const statusQueries = (server) => server.callsTo(PATHS.readStatus);

/** How often the read status of each key was asked and answered with a status. */
function statusAnswersPerKey(server) {
	const counts = {};
	for (const call of statusQueries(server).filter((call) => call.status === 200)) counts[call.statusKey] = (counts[call.statusKey] ?? 0) + 1;
	return counts;
}

describe('What DingTalk really answers', () => {
	test('HTTP 200 {"code":"system.busy"} is an error answer: the call is repeated and every key recalled', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 25);
		server.injectFault(PATHS.batchRecall, 'busy200', 2);

		const result = await recallRobot({ server, items: [{ keys }], options: FAST });

		expect(result.failed).toEqual([]);
		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(keys);
		for (const item of json(result.success)) expect(item).not.toHaveProperty('alreadyRecalled');
		expect(server.callsTo(PATHS.batchRecall).filter((call) => call.status === 200)).toHaveLength(4); // 2 busy + 2 real
		expect(statusQueries(server)).toHaveLength(0);
	});

	test.each([
		['errcode 88 with the subcode only inside errmsg (90002)', 'errmsgOnly'],
		['errcode 88 with a string sub_code (90018)', 'subCode'],
	])('work notifications throttled with %s wait and are all recalled, none Failed as 88', async (_name, shape) => {
		const server = await startServer({ rateLimitPerSecond: 5, oapiThrottleShape: shape });
		const taskIds = Array.from({ length: 12 }, () => server.sendWorkNotification('836390886'));

		const result = await recallWork({ server, items: taskIds.map((taskId) => ({ agentId: 836390886, taskId })) });

		expect(result.failed).toEqual([]);
		expect(json(result.success).map((item) => item.msgTaskId)).toEqual(taskIds);
		expect(taskIds.every((taskId) => server.isNotificationRecalled(taskId))).toBe(true);
		const throttled = server.callsTo(PATHS.workNotificationRecall).filter((call) => call.status === 200).length - taskIds.length;
		expect(throttled).toBeGreaterThan(0); // DingTalk really did throttle, and the node waited it out
	});

	test('an expired token on /topapi/ (errcode 88, sub_code "40014") is renewed once and the notification recalled', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server);
		const first = server.sendWorkNotification('836390886');
		await recallWork({ server, credentials, items: [{ agentId: 836390886, taskId: first }] });
		const oldToken = credentials.dataOf('cred-1').accessToken;
		server.expireAllTokens();
		const second = server.sendWorkNotification('836390886');

		const result = await recallWork({ server, credentials, items: [{ agentId: 836390886, taskId: second }] });

		expect(json(result.success)).toEqual([expect.objectContaining({ msgTaskId: second, recalled: true })]);
		const calls = server.callsTo(PATHS.workNotificationRecall);
		expect(calls.at(-2).queryToken).toBe(oldToken);
		expect(calls.at(-1).queryToken).toBe(credentials.dataOf('cred-1').accessToken);
		expect(calls.at(-1).queryToken).not.toBe(oldToken);
	});

	test.each([
		['SYSTEM_ERROR'],
		['system error'],
		['System-Error'],
	])('a failedResult reason %j (DingTalk failed internally) is repeated for those keys, which are then recalled', async (reason) => {
		const server = await startServer({ batchMode: 'lenient' });
		const keys = server.sendRobotMessages('dingRobotA', 6);
		server.injectFault(PATHS.batchRecall, `failedReason:${reason}`, 1);

		const result = await recallRobot({ server, items: [{ keys: [...keys, 'no-such-key'] }], options: FAST });

		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(keys);
		for (const item of json(result.success)) expect(item).not.toHaveProperty('alreadyRecalled');
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: 'no-such-key', errorCode: 'invalid.processQueryKey' })]);
		const calls = server.callsTo(PATHS.batchRecall);
		expect(calls).toHaveLength(2);
		expect(calls[1].body.processQueryKeys).toEqual(keys); // only the keys DingTalk failed on
		expect(statusQueries(server)).toHaveLength(0);
	});

	test('a SYSTEM_ERROR reason that outlasts the retries: read status asked once per key, the keys stay Failed with DingTalk’s reason', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 3);
		server.injectFault(PATHS.batchRecall, 'failedReason:SYSTEM_ERROR', 3);

		const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, maxRetries: 2 } });

		expect(result.success).toEqual([]);
		expect(json(result.failed).map((item) => [item.processQueryKey, item.errorCode])).toEqual(keys.map((key) => [key, 'SYSTEM_ERROR']));
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(3);
		expect(statusAnswersPerKey(server)).toEqual(Object.fromEntries(keys.map((key) => [key, 1])));
	});

	test('a recall API the deployment does not route (404 InvalidAction.NotFound) stops the run and points at the base URLs', async () => {
		const server = await startServer({ unroutedPaths: [PATHS.batchRecall] });
		const keys = server.sendRobotMessages('dingRobotA', 45);

		const result = await recallRobot({ server, items: [{ keys }] });

		expect(result.error.name).toBe('NodeApiError');
		expect(result.error.message).toMatch(/InvalidAction\.NotFound/);
		expect(result.error.description).toMatch(/API Base URL/);
		// No repeats: at most the three batches already under way when the first answer came.
		expect(server.callsTo(PATHS.batchRecall).length).toBeLessThanOrEqual(3);
		expect(keys.some((key) => server.isRecalled(key))).toBe(false);
	});

	test('an API Base URL with a path: the token API is not found, and the error says to fix API Base URL', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server, { apiBaseUrl: `${server.apiBaseUrl}/v1.0` });
		const result = await recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessages('dingRobotA', 2) }] });
		expect(result.error.name).toBe('NodeApiError');
		expect(result.error.message).toMatch(/refused the token request \(InvalidAction\.NotFound/);
		expect(result.error.message).toMatch(/API Base URL/);
	});

	test('an OAPI Base URL with a path (errcode 22, Invalid method) stops the run and points at the base URLs', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server, { oapiBaseUrl: `${server.oapiBaseUrl}/topapi` });
		const taskId = server.sendWorkNotification('836390886');

		const result = await recallWork({ server, credentials, items: [{ agentId: 836390886, taskId }, { agentId: 836390886, taskId: taskId + 1 }] });

		expect(result.error.name).toBe('NodeApiError');
		expect(result.error.message).toMatch(/\b22\b.*Invalid method/);
		expect(result.error.description).toMatch(/OAPI Base URL/);
		expect(server.isNotificationRecalled(taskId)).toBe(false);
	});

	test('the IP-ban body {status: 1111, wait, source, punish, uuid} waits and repeats', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 3);
		server.injectFault(PATHS.batchRecall, 'ban', 1);
		const result = await recallRobot({ server, items: [{ keys }] });
		expect(json(result.success)).toHaveLength(3);
		const [banned, next] = server.callsTo(PATHS.batchRecall);
		expect(next.at - banned.at).toBeGreaterThanOrEqual(1000); // the wait the ban asked for
	});
});

describe('Unclear outcomes are checked with DingTalk’s read status, not guessed', () => {
	/** Keys in standard base64, with `+`, `/` and `=`, as DingTalk issues them. */
	function sendBase64Keys(server, count) {
		const keys = server.sendRobotMessages('dingRobotA', count);
		const special = server.sendRobotMessage('dingRobotA', { key: 'Kna29Ra5pdJznx1ghavb+umkQKwDzgf/xZLapw55G7x0Q=' });
		return [...keys, special];
	}

	test.each([
		['the connection drops after DingTalk recalled (no retries)', 'lostAnswer', { maxRetries: 0 }, 1],
		['the answer never arrives after DingTalk recalled (no retries)', 'lostAnswerTimeout', { maxRetries: 0, timeout: 300 }, 1],
		['the connection drops after DingTalk recalled; the retry hears "already recalled"', 'lostAnswer', { maxRetries: 2 }, 2],
		// A 200 without the API's fields is not DingTalk's answer: repeated, and the repeat is refused as already recalled.
		['DingTalk recalled and answered 200 without successResult or failedResult', 'silent', { maxRetries: 2 }, 2],
	])('%s: every key ends on Success with alreadyRecalled, its status asked once', async (_name, fault, options, recallCalls) => {
		const server = await startServer();
		const keys = sendBase64Keys(server, 4);
		server.injectFault(PATHS.batchRecall, fault, 1);

		const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, ...options } });

		expect(result.failed).toEqual([]);
		expect(json(result.success)).toEqual(
			keys.map((processQueryKey) => ({ operation: ROBOT, processQueryKey, robotCode: 'dingRobotA', recalled: true, alreadyRecalled: true })),
		);
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(recallCalls);
		// Each key's status asked exactly once, the base64 key arriving byte for byte through the query string.
		expect(statusAnswersPerKey(server)).toEqual(Object.fromEntries(keys.map((key) => [key, 1])));
		for (const call of statusQueries(server)) expect(call.method).toBe('GET');
	});

	test('a timeout before DingTalk did anything: read status says SUCCESS (not recalled), the keys stay Failed as timeout', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 2);
		server.injectFault(PATHS.batchRecall, 'timeout', 2);

		const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, maxRetries: 1, timeout: 300 } });

		expect(result.success).toEqual([]);
		expect(json(result.failed).map((item) => [item.processQueryKey, item.errorCode])).toEqual(keys.map((key) => [key, 'timeout']));
		expect(result.failed[0].json.errorMessage).toBe('DingTalk did not answer in time, even after retries. Its read status shows the message was not recalled.');
		expect(statusAnswersPerKey(server)).toEqual(Object.fromEntries(keys.map((key) => [key, 1])));
	});

	test('notRevoke.all.messages with no per-key results: keys DingTalk did recall end on Success by read status, the unknown key on Failed', async () => {
		const server = await startServer({ batchMode: 'notRevokeBare' });
		const keys = server.sendRobotMessages('dingRobotA', 5);

		const result = await recallRobot({ server, items: [{ keys: [...keys, 'no-such-key'] }] });

		expect(json(result.success).map((item) => item.processQueryKey).sort()).toEqual([...keys].sort());
		for (const item of json(result.success)) expect(item.alreadyRecalled).toBe(true);
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: 'no-such-key', errorCode: 'notRevoke.all.messages' })]);
		const answered = statusAnswersPerKey(server);
		for (const key of keys) expect(answered[key]).toBe(1);
		// The unknown key's status was asked too; DingTalk refused it, so it stays Failed.
		expect(statusQueries(server).filter((call) => call.statusKey === 'no-such-key')).toHaveLength(1);
	});

	test('the read status API failing keeps the key’s outcome as it was, with one query per key', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 3);
		server.injectFault(PATHS.batchRecall, 'lostAnswer', 1);
		server.injectFault(PATHS.readStatus, '500', 3);

		const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, maxRetries: 0 } });

		expect(result.success).toEqual([]);
		expect(json(result.failed).map((item) => item.errorCode)).toEqual(['network', 'network', 'network']);
		expect(statusQueries(server)).toHaveLength(3);
		expect(keys.every((key) => server.isRecalled(key))).toBe(true); // really gone, but the node could not confirm it
	});

	test('Check Unclear Outcomes off: a lost answer stays Failed and read status is never asked', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 3);
		server.injectFault(PATHS.batchRecall, 'lostAnswer', 1);

		const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, maxRetries: 0, checkUnclear: false } });

		expect(json(result.failed).map((item) => item.errorCode)).toEqual(['network', 'network', 'network']);
		expect(statusQueries(server)).toHaveLength(0);
	});

	test('keys refused with a documented key code and keys just recalled are never checked', async () => {
		const server = await startServer({ batchMode: 'lenient' });
		const keys = server.sendRobotMessages('dingRobotA', 3);
		const expired = server.sendRobotMessage('dingRobotA', { sentAt: Date.now() - 25 * 3600e3 });
		const result = await recallRobot({ server, items: [{ keys: [...keys, expired, 'no-such-key'] }] });
		expect(result.success).toHaveLength(3);
		expect(json(result.failed).map((item) => item.errorCode).sort()).toEqual(['invalid.processQueryKey', 'robot.processQueryKey.expired']);
		expect(statusQueries(server)).toHaveLength(0);
	});
});
