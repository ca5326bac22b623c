'use strict';
/**
 * Told truly one step beside earlier fixes (issue 33): a gateway's errcode body at a 5xx, a key refusal that
 * names one key, a DING answer about another DING, a token request shared by executions, 400002 after the
 * node's own recall, refusals that would cost a call per key and more, secrets echoed by DingTalk, and the
 * private chat's read status. In n8n's engine against the DingTalk-compatible server.
 */
const { startServer, credentialsFor, recallRobot, recallWork, json, PATHS } = require('./support/fixture');
const { runNode, runWorkflow, runWithInput, NODE_TYPE } = require('./support/n8n-harness');

const FAST = { retryDelay: 5 };
const AGENT = 836390886;
const PRIVATE_CHAT = 'cidPrivate+C3/xyz==';

/** A proxy's own answer in DingTalk's old-style shape, after DingTalk carried the call out (`acted`). */
const gatewayErrcode = (status) => ({ status, body: { errcode: status, errmsg: 'Gateway Time-out' }, acted: true });

/** Every key the server recalled is on Success, or on Failed with mayBeRecalled: nothing DingTalk recalled is told as plainly not recalled. */
function expectNoRecallHidden(server, result, isRecalled = (key) => server.isRecalled(key), keyOf = (item) => item.processQueryKey) {
	for (const item of json(result.failed)) if (isRecalled(keyOf(item))) expect(item).toMatchObject({ mayBeRecalled: true });
	for (const item of json(result.success)) expect(isRecalled(keyOf(item))).toBe(true);
}

describe('an errcode body at a 5xx is a gateway’s, not DingTalk’s old-style host', () => {
	test('robot one-on-one: a 504 errcode answer after DingTalk recalled the keys is a lost answer, repeated and settled, not a setup error', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 3);
		server.injectFault(PATHS.batchRecall, gatewayErrcode(504), 1);

		const result = await recallRobot({ server, items: [{ keys }], options: FAST });

		expect(result.error).toBeUndefined();
		expect(json(result.success).map((item) => [item.processQueryKey, item.alreadyRecalled])).toEqual(keys.map((key) => [key, true]));
	});

	test('private chat, Continue On Fail: a 502 errcode answer after DingTalk recalled the keys leaves none of them told as not recalled', async () => {
		const server = await startServer();
		const keys = server.sendChatMessages('dingRobotA', PRIVATE_CHAT, 3);
		server.injectFault(PATHS.privateChatRecall, gatewayErrcode(502), 1);

		const result = await runNode({
			items: [{ keys }],
			credentials: credentialsFor(server),
			continueOnFail: true,
			parameters: { operation: 'recallRobotPrivateChatMessages', robotCode: 'dingRobotA', openConversationId: PRIVATE_CHAT, processQueryKeys: '={{ $json.keys }}', options: { ...FAST, checkUnclear: false } },
		});

		expect(keys.every((key) => server.isRecalled(key))).toBe(true);
		expect(json(result.failed).map((item) => item.errorCode)).not.toContain('502');
		expect(json(result.failed)).toHaveLength(3);
		expectNoRecallHidden(server, result);
	});

	test('the token endpoint: one 503 errcode answer is repeated within Retries, not taken for a refusal', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 2);
		server.injectFault(PATHS.accessToken, { status: 503, body: { errcode: 503, errmsg: 'Service Unavailable' } }, 1);

		const result = await recallRobot({ server, items: [{ keys }], options: FAST });

		expect(result.error).toBeUndefined();
		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(keys);
		expect(server.callsTo(PATHS.accessToken)).toHaveLength(2);
	});

	test('work notification: a 502 errcode answer after DingTalk recalled it, then 400002 on the repeat: Failed with mayBeRecalled', async () => {
		const server = await startServer();
		const taskId = server.sendWorkNotification(AGENT);
		server.injectFault(PATHS.workNotificationRecall, gatewayErrcode(502), 1);

		const result = await recallWork({ server, items: [{ agentId: AGENT, taskId }], options: FAST });

		expect(server.isNotificationRecalled(taskId)).toBe(true);
		expect(json(result.failed)).toEqual([expect.objectContaining({ msgTaskId: taskId, errorCode: '400002', mayBeRecalled: true })]);
	});
});

describe('a key refusal that names only the bad key', () => {
	test('the keys it does not name, which DingTalk recalled, go again at once and stay unheard: never told as plainly not recalled', async () => {
		const server = await startServer({ batchMode: 'lenient' });
		const keys = server.sendRobotMessages('dingRobotA', 3);
		server.injectFault(PATHS.batchRecall, 'refuseNamingBad:invalid.processQueryKey', 1);

		const result = await recallRobot({ server, items: [{ keys: [...keys, 'bad-key'] }], options: { ...FAST, checkUnclear: false } });

		expect(keys.every((key) => server.isRecalled(key))).toBe(true);
		expect(json(result.failed).map((item) => [item.processQueryKey, item.errorCode, item.mayBeRecalled])).toEqual([
			...keys.map((key) => [key, 'message.already.recalled', true]),
			['bad-key', 'invalid.processQueryKey', undefined],
		]);
	});

	test('with Check Unclear Outcomes on, their read status puts them on Success', async () => {
		const server = await startServer({ batchMode: 'lenient' });
		const keys = server.sendChatMessages('dingRobotA', PRIVATE_CHAT, 3);
		server.injectFault(PATHS.privateChatRecall, 'refuseNamingBad:invalid.processQueryKey', 1);

		const result = await runNode({
			items: [{ keys: [...keys, 'bad-key'] }],
			credentials: credentialsFor(server),
			parameters: { operation: 'recallRobotPrivateChatMessages', robotCode: 'dingRobotA', openConversationId: PRIVATE_CHAT, processQueryKeys: '={{ $json.keys }}', options: FAST },
		});

		expect(json(result.success).map((item) => [item.processQueryKey, item.alreadyRecalled])).toEqual(keys.map((key) => [key, true]));
		expect(json(result.failed).map((item) => [item.processQueryKey, item.errorCode, item.mayBeRecalled])).toEqual([['bad-key', 'invalid.processQueryKey', undefined]]);
	});
});

describe('an answer about another key is not an answer about this one', () => {
	test('a DING answer naming another DING does not confirm this one', async () => {
		const server = await startServer();
		const [openDingId] = server.sendDings('dingRobotA', 1);
		server.injectFault(PATHS.dingRecall, { status: 200, body: { openDingId: 'another-ding-id', requestid: 'r-cache' } }, 1);

		const result = await runNode({
			items: [{ dings: openDingId }],
			credentials: credentialsFor(server),
			parameters: { operation: 'recallRobotDingMessages', robotCode: 'dingRobotA', openDingIds: '={{ $json.dings }}', options: { ...FAST, maxRetries: 0 } },
		});

		expect(server.isDingRecalled(openDingId)).toBe(false);
		expect(result.success).toEqual([]);
		expect(json(result.failed)).toEqual([expect.objectContaining({ openDingId, recalled: false, errorCode: 'invalidResponse' })]);
	});

	test('a robot recall answer naming other keys only: the call’s keys are asked again, and what DingTalk did is told truly', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 2);
		server.injectFault(PATHS.batchRecall, 'namesOtherKeysActed', 1);

		const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, checkUnclear: false } });

		expect(keys.every((key) => server.isRecalled(key))).toBe(true);
		expect(json(result.failed).map((item) => [item.errorCode, item.mayBeRecalled])).toEqual([
			['message.already.recalled', true],
			['message.already.recalled', true],
		]);
	});
});

describe('a token request shared by executions', () => {
	test('an execution waiting on another’s failing token request makes tries of its own, within its own Retries', async () => {
		const server = await startServer({ latencyMs: 20 });
		const credentials = credentialsFor(server);
		server.injectFault(PATHS.accessToken, '503', 1);
		const [first, second] = [server.sendRobotMessages('dingRobotA', 2), server.sendRobotMessages('dingRobotA', 2)];

		const [withoutRetries, withRetries] = await Promise.all([
			recallRobot({ server, credentials, items: [{ keys: first }], options: { ...FAST, maxRetries: 0 }, continueOnFail: true }),
			recallRobot({ server, credentials, items: [{ keys: second }], options: { ...FAST, maxRetries: 3 } }),
		]);

		expect(json(withoutRetries.failed).map((item) => item.errorCode)).toEqual(['invalidResponse', 'invalidResponse']);
		expect(withRetries.error).toBeUndefined();
		expect(json(withRetries.success).map((item) => item.processQueryKey)).toEqual(second);
	});

	test('with equal Retries, an execution that starts while another’s tries fail does not inherit the failure', async () => {
		const server = await startServer({ latencyMs: 20 });
		const credentials = credentialsFor(server);
		server.injectFault(PATHS.accessToken, '503', 2);
		const [first, second] = [server.sendRobotMessages('dingRobotA', 2), server.sendRobotMessages('dingRobotA', 2)];

		const [earlier, later] = await Promise.all([
			recallRobot({ server, credentials, items: [{ keys: first }], options: { ...FAST, maxRetries: 1 }, continueOnFail: true }),
			recallRobot({ server, credentials, items: [{ keys: second }], options: { ...FAST, maxRetries: 1 } }),
		]);

		expect(json(earlier.failed).map((item) => item.errorCode)).toEqual(['invalidResponse', 'invalidResponse']);
		expect(later.error).toBeUndefined();
		expect(json(later.success).map((item) => item.processQueryKey)).toEqual(second);
	});
});

describe('400002 on a notification the node may have recalled before', () => {
	test('a second run: the Failed item says the notification may have been recalled already', async () => {
		const server = await startServer();
		const taskId = server.sendWorkNotification(AGENT);
		const first = await recallWork({ server, items: [{ agentId: AGENT, taskId }] });
		expect(json(first.success)).toEqual([expect.objectContaining({ msgTaskId: taskId })]);

		const again = await recallWork({ server, items: [{ agentId: AGENT, taskId }] });

		expect(json(again.failed)).toEqual([expect.objectContaining({ msgTaskId: taskId, errorCode: '400002' })]);
		expect(json(again.failed)[0].errorMessage).toMatch(/may (already )?have been recalled/);
	});

	test('n8n’s Retry On Fail runs the node again after a setup error: a notification the first try recalled says so on its Failed item', async () => {
		const server = await startServer();
		const [recalledFirst, other] = [server.sendWorkNotification(AGENT), server.sendWorkNotification(AGENT)];
		// The first try recalls one notification, then DingTalk refuses n8n's IP (once): the node stops, n8n runs it again.
		server.injectFault(PATHS.workNotificationRecall, 'none', 1);
		server.injectFault(PATHS.workNotificationRecall, { status: 200, body: { errcode: 60020, errmsg: '访问ip不在白名单之中', request_id: 'r-ip' } }, 1);
		const credentials = credentialsFor(server);
		const nodes = [
			{ id: 'input', name: 'Input', type: 'test.input', typeVersion: 1, position: [0, 0], parameters: { runId: 'retry-on-fail' } },
			{
				id: 'recall',
				name: 'Recall',
				type: NODE_TYPE,
				typeVersion: 1,
				position: [200, 0],
				parameters: { operation: 'recallWorkNotification', agentId: '={{ $json.agentId }}', msgTaskId: '={{ $json.taskId }}', options: { concurrency: 1 } },
				credentials: { dingTalkApi: { id: 'cred-1', name: 'DingTalk test app' } },
				retryOnFail: true,
				maxTries: 2,
				waitBetweenTries: 1,
			},
		];
		const run = await runWithInput('retry-on-fail', [{ agentId: AGENT, taskId: recalledFirst }, { agentId: AGENT, taskId: other }], async () =>
			await runWorkflow({ nodes, connections: { Input: { main: [[{ node: 'Recall', type: 'main', index: 0 }]] } }, credentials, startNode: 'Input' }),
		);

		const [success, failed] = run.data.resultData.runData.Recall.at(-1).data.main.map((items) => items.map((item) => item.json));
		expect(server.isNotificationRecalled(recalledFirst)).toBe(true);
		expect(success).toEqual([expect.objectContaining({ msgTaskId: other })]);
		expect(failed).toEqual([expect.objectContaining({ msgTaskId: recalledFirst, errorCode: '400002' })]);
		expect(failed[0].errorMessage).toMatch(/may (already )?have been recalled/);
	});
});

describe('refusals of bad keys cost a bounded number of calls', () => {
	test('1,000 keys older than 24 hours, refused call by call: every key Failed as expired, at most 1.25 calls a key', async () => {
		const server = await startServer({ batchMode: 'strict' });
		const keys = server.sendRobotMessages('dingRobotA', 1000, { sentAt: server.clock.now() - 25 * 3600e3 });

		const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, checkUnclear: false } });

		expect(result.success).toEqual([]);
		expect(json(result.failed).map((item) => [item.errorCode, item.mayBeRecalled])).toEqual(keys.map(() => ['robot.processQueryKey.expired', undefined]));
		expect(server.callsTo(PATHS.batchRecall).length).toBeLessThanOrEqual(1250);
	});

	test('1,000 good keys: one call per 20', async () => {
		const server = await startServer({ batchMode: 'strict' });
		const keys = server.sendRobotMessages('dingRobotA', 1000);

		const result = await recallRobot({ server, items: [{ keys }] });

		expect(result.success).toHaveLength(1000);
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(50);
	});

	test('one bad key in each batch of 20: every good key recalled, at most 12 calls a batch', async () => {
		const server = await startServer({ batchMode: 'strict' });
		const good = server.sendRobotMessages('dingRobotA', 190);
		const keys = good.flatMap((key, index) => (index % 19 === 18 ? [key, `unknown-${index}`] : [key]));

		const result = await recallRobot({ server, items: [{ keys }] });

		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(good);
		expect(json(result.failed).map((item) => item.errorCode)).toEqual(Array(10).fill('invalid.processQueryKey'));
		expect(server.callsTo(PATHS.batchRecall).length).toBeLessThanOrEqual(120);
	});
});

describe('no secret on any path', () => {
	test('a token refusal that echoes the secret in its code and message: the error names neither, nor does its response or HTTP code', async () => {
		const secret = 'ding-app-secret';
		const server = await startServer();
		server.injectFault(PATHS.accessToken, { status: 400, body: { code: `invalidClientIdOrSecret.${secret}`, message: `appSecret ${secret} is wrong`, requestid: 'r-echo' } }, 1);

		const result = await recallRobot({ server, items: [{ keys: 'k1' }] });

		expect(result.error.name).toBe('NodeApiError');
		const shown = JSON.stringify({ ...result.error, message: result.error.message, description: result.error.description, errorResponse: result.error.errorResponse, httpCode: result.error.httpCode });
		expect(shown).not.toContain(secret);
		expect(JSON.stringify(result.run)).not.toContain(secret);
	});

	test('a recall refusal that echoes the access token: the Failed item does not show it', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server);
		server.injectFault(PATHS.batchRecall, 'echoToken', 1);

		const result = await recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessages('dingRobotA', 1) }], options: FAST });

		const token = credentials.dataOf('cred-1').accessToken;
		expect(server.callsTo(PATHS.batchRecall)[0].answer.message).toContain(token);
		expect(json(result.failed)).toHaveLength(1);
		expect(JSON.stringify(result.run)).not.toContain(token);
	});
});

describe('the private chat’s read status', () => {
	test('settles private-chat keys whose answers were lost: RECALLED puts them on Success', async () => {
		const server = await startServer();
		const keys = server.sendChatMessages('dingRobotA', PRIVATE_CHAT, 3);
		server.injectFault(PATHS.privateChatRecall, 'lostAnswer', 2);

		const result = await runNode({
			items: [{ keys }],
			credentials: credentialsFor(server),
			parameters: { operation: 'recallRobotPrivateChatMessages', robotCode: 'dingRobotA', openConversationId: PRIVATE_CHAT, processQueryKeys: '={{ $json.keys }}', options: { ...FAST, maxRetries: 1 } },
		});

		expect(json(result.success).map((item) => [item.processQueryKey, item.alreadyRecalled])).toEqual(keys.map((key) => [key, true]));
		expect(server.callsTo(PATHS.privateChatQuery).map((call) => call.body)).toEqual(
			keys.map((processQueryKey) => ({ openConversationId: PRIVATE_CHAT, robotCode: 'dingRobotA', processQueryKey, maxResults: 1 })),
		);
	});
});
