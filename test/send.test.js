'use strict';
/**
 * DingTalk Send Message in n8n's engine, against the DingTalk-compatible server's send APIs (which keep what
 * each person received): one Success item per message DingTalk created, with the ID the recall reads; every
 * recipient in exactly one output item; a call whose answer was lost never repeated.
 */
const { startServer, credentialsFor, send, json, PATHS } = require('./support/fixture');
const { runWorkflow, runWithInput, NODE_TYPE, SEND_NODE_TYPE } = require('./support/n8n-harness');

const FAST = { retryDelay: 5 };
const GROUP = 'cidGroupOps+A1/xyz==';
const AGENT = 836390886;
const ONE_ON_ONE = 'sendRobotOneOnOneMessage';
const GROUP_MESSAGE = 'sendRobotGroupMessage';
const DING = 'sendRobotDingMessage';
const WORK = 'sendWorkNotification';

const people = (count, prefix = 'user') => Array.from({ length: count }, (_, index) => `${prefix}${String(index).padStart(4, '0')}`);
const text = (body = 'Disk full on db-01') => ({ messageType: 'text', text: body });

/** Every recipient given is in exactly one output item: a Success item's userIds or a Failed item's. */
function expectEveryRecipientOnce(result, recipients) {
	const told = [...json(result.success), ...json(result.failed)].flatMap((item) => item.userIds ?? []);
	expect(told.sort()).toEqual([...recipients].sort());
}

describe('robot one-on-one messages', () => {
	test('45 recipients are three messages of 20, 20 and 5: each Success item has its processQueryKey and whom it reached', async () => {
		const server = await startServer();
		const recipients = people(45);

		const result = await send({ server, operation: ONE_ON_ONE, items: [{ to: recipients }], parameters: { robotCode: 'dingRobotA', userIds: '={{ $json.to }}', ...text() } });

		expect(result.failed).toEqual([]);
		expect(json(result.success).map((item) => item.userIds.length)).toEqual([20, 20, 5]);
		for (const item of json(result.success)) {
			expect(item).toMatchObject({ operation: ONE_ON_ONE, sent: true, robotCode: 'dingRobotA', processQueryKey: expect.any(String) });
			expect(server.robotMessages.has(item.processQueryKey)).toBe(true);
		}
		expectEveryRecipientOnce(result, recipients);
		for (const userId of recipients) expect(server.received(userId)).toBe(1);
		const [call] = server.callsTo(PATHS.batchSend);
		expect(call.body).toEqual({ robotCode: 'dingRobotA', userIds: recipients.slice(0, 20), msgKey: 'sampleText', msgParam: '{"content":"Disk full on db-01"}' });
	});

	test('people DingTalk does not know or filters out are Failed one by one; the message reached the others', async () => {
		const server = await startServer({ filteredUsers: ['left01'] });
		const recipients = ['user01', 'unknown-02', 'user03', 'left01'];

		const result = await send({ server, operation: ONE_ON_ONE, items: [{ to: recipients.join(',') }], parameters: { robotCode: 'dingRobotA', userIds: '={{ $json.to }}', ...text() } });

		expect(json(result.success)).toEqual([expect.objectContaining({ userIds: ['user01', 'user03'] })]);
		expect(json(result.failed).map((item) => [item.userIds, item.errorCode, item.sent])).toEqual([
			[['unknown-02'], 'invalidStaffId', false],
			[['left01'], 'filtered', false],
		]);
		expect(json(result.failed).every((item) => !('maybeSent' in item))).toBe(true);
	});

	test('people DingTalk held back for its limits are sent again, paced, in a call of their own; still held back after Retries, Failed', async () => {
		const server = await startServer({ flowControlled: { busy01: 1, busy02: 9 } });
		const recipients = ['user01', 'busy01', 'busy02'];

		const result = await send({ server, operation: ONE_ON_ONE, items: [{ to: recipients }], options: { ...FAST, maxRetries: 2 }, parameters: { robotCode: 'dingRobotA', userIds: '={{ $json.to }}', ...text() } });

		expect(json(result.success).map((item) => item.userIds)).toEqual([['user01'], ['busy01'], []]);
		expect(json(result.failed).map((item) => [item.userIds, item.errorCode])).toEqual([[['busy02'], 'flowControlled']]);
		expect(server.callsTo(PATHS.batchSend).map((call) => call.body.userIds)).toEqual([recipients, ['busy01', 'busy02'], ['busy02']]);
		expect([server.received('user01'), server.received('busy01'), server.received('busy02')]).toEqual([1, 1, 0]);
	});

	test('DingTalk refusing the whole call for an unknown person: every recipient of that call Failed, none sent', async () => {
		const server = await startServer({ unknownUsersAnswer: 'refuse' });

		const result = await send({ server, operation: ONE_ON_ONE, items: [{ to: ['user01', 'unknown-1'] }], parameters: { robotCode: 'dingRobotA', userIds: '={{ $json.to }}', ...text() } });

		expect(json(result.failed)).toEqual([expect.objectContaining({ userIds: ['user01', 'unknown-1'], errorCode: 'staffId.notExisted', sent: false })]);
		expect(json(result.failed)[0]).not.toHaveProperty('maybeSent');
		expect(server.received('user01')).toBe(0);
	});
});

describe('robot group messages, DINGs and work notifications', () => {
	test('group: one message per item, its processQueryKey and openConversationId on Success', async () => {
		const server = await startServer();

		const result = await send({
			server,
			operation: GROUP_MESSAGE,
			items: [{ alert: 'one' }, { alert: 'two' }],
			parameters: { robotCode: 'dingRobotA', openConversationId: GROUP, messageType: 'markdown', title: '={{ $json.alert }}', text: '**down**' },
		});

		expect(json(result.success)).toEqual([
			{ operation: GROUP_MESSAGE, robotCode: 'dingRobotA', openConversationId: GROUP, sent: true, processQueryKey: expect.any(String) },
			{ operation: GROUP_MESSAGE, robotCode: 'dingRobotA', openConversationId: GROUP, sent: true, processQueryKey: expect.any(String) },
		]);
		expect(server.received(GROUP)).toBe(2);
		expect(JSON.parse(server.callsTo(PATHS.groupSend)[0].body.msgParam)).toEqual({ title: 'one', text: '**down**' });
	});

	test('DING: 250 people in-app are two DINGs (200 and 50), 25 by SMS two (20 and 5); people DingTalk names in failedList are Failed', async () => {
		const server = await startServer();
		const inApp = [...people(249), 'unknown-x'];
		const bySms = people(25, 'sms');

		const result = await send({
			server,
			operation: DING,
			items: [{ to: inApp, how: 'app' }, { to: bySms, how: 'sms' }],
			parameters: { robotCode: 'dingRobotA', userIds: '={{ $json.to }}', remindType: '={{ $json.how }}', content: 'Look now' },
		});

		expect(json(result.success).map((item) => [item.userIds.length, typeof item.openDingId])).toEqual([
			[200, 'string'],
			[49, 'string'],
			[20, 'string'],
			[5, 'string'],
		]);
		expect(json(result.failed)).toEqual([expect.objectContaining({ userIds: ['unknown-x'], errorCode: 'staffId not existed', sent: false })]);
		expect(server.callsTo(PATHS.dingSend).map((call) => call.body.remindType)).toEqual([1, 1, 2, 2]);
		expectEveryRecipientOnce(result, [...inApp, ...bySms]);
	});

	test('work notification: 6,000 people are two tasks (5,000 and 1,000); a third-party app’s go 1,000 per call', async () => {
		const server = await startServer({ suites: { suiteX: { suiteSecret: 'suite-secret', suiteTicket: 't', corps: ['corp1'] } } });
		const recipients = people(6000);
		const parameters = { agentId: AGENT, userIds: '={{ $json.to }}', ...text('Maintenance tonight') };

		const internal = await send({ server, operation: WORK, items: [{ to: recipients }], parameters });
		const thirdParty = await send({
			server,
			credentials: credentialsFor(server, { appType: 'thirdParty', suiteKey: 'suiteX', suiteSecret: 'suite-secret', suiteTicket: 't', authCorpId: 'corp1' }),
			operation: WORK,
			items: [{ to: recipients.slice(0, 2500) }],
			parameters,
		});

		expect(json(internal.success).map((item) => [item.userIds.length, item.agentId, typeof item.msgTaskId])).toEqual([
			[5000, AGENT, 'number'],
			[1000, AGENT, 'number'],
		]);
		expect(json(thirdParty.success).map((item) => item.userIds.length)).toEqual([1000, 1000, 500]);
		const [call] = server.callsTo(PATHS.workNotificationSend);
		expect(call.body).toMatchObject({ agent_id: AGENT, msg: { msgtype: 'text', text: { content: 'Maintenance tonight' } } });
		expect(call.body.userid_list.split(',')).toHaveLength(5000);
	});

	test('a JSON message goes as written: a robot’s template and parameters (msgParam sent as a string), a notification’s msg', async () => {
		const server = await startServer();
		const card = { title: 'Disk full', text: '98%', singleTitle: 'Runbook', singleURL: 'https://example.com' };

		await send({ server, operation: ONE_ON_ONE, items: [{}], parameters: { robotCode: 'dingRobotA', userIds: 'user01', messageType: 'json', msgKey: 'sampleActionCard', msgParam: JSON.stringify(card) } });
		await send({ server, operation: WORK, items: [{}], parameters: { agentId: AGENT, userIds: 'user01', messageType: 'json', msg: { msgtype: 'markdown', markdown: { title: 't', text: 'x' } } } });

		expect(server.callsTo(PATHS.batchSend)[0].body).toMatchObject({ msgKey: 'sampleActionCard', msgParam: JSON.stringify(card) });
		expect(server.callsTo(PATHS.workNotificationSend)[0].body.msg).toEqual({ msgtype: 'markdown', markdown: { title: 't', text: 'x' } });
	});
});

describe('never a message twice, never one nobody can recall', () => {
	test.each([
		['a timeout after DingTalk sent it', 'lostAnswerTimeout', 'timeout'],
		['a connection dropped after DingTalk sent it', 'lostAnswer', 'network'],
		['a 502 page', '502', 'invalidResponse'],
		['a 500 from DingTalk', '500', 'system.error'],
		['a gateway’s 200 {}', 'empty200', 'invalidResponse'],
	])('%s: not repeated; its recipients Failed with maybeSent', async (_name, fault, code) => {
		const server = await startServer();
		server.injectFault(PATHS.batchSend, fault, 1);

		const result = await send({ server, operation: ONE_ON_ONE, items: [{ to: ['user01', 'user02'] }], options: { ...FAST, timeout: 300 }, parameters: { robotCode: 'dingRobotA', userIds: '={{ $json.to }}', ...text() } });

		expect(server.callsTo(PATHS.batchSend)).toHaveLength(1);
		expect(json(result.failed)).toEqual([expect.objectContaining({ userIds: ['user01', 'user02'], sent: false, errorCode: code, maybeSent: true })]);
		expect(json(result.failed)[0].errorMessage).toMatch(/may have been sent/);
		expect(server.received('user01')).toBeLessThanOrEqual(1);
	});

	test.each([
		['throttled (403 QpsLimit)', { status: 403, body: { code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', message: 'qps' } }],
		['busy (200 system.busy)', 'busy200'],
		['a token DingTalk refused', 'tokenExpired'],
	])('%s: DingTalk did not carry it out, so it is sent again, and each person gets it once', async (_name, fault) => {
		const server = await startServer();
		server.injectFault(PATHS.batchSend, fault, 1);

		const result = await send({ server, operation: ONE_ON_ONE, items: [{ to: ['user01', 'user02'] }], options: FAST, parameters: { robotCode: 'dingRobotA', userIds: '={{ $json.to }}', ...text() } });

		expect(json(result.success)).toEqual([expect.objectContaining({ userIds: ['user01', 'user02'] })]);
		expect([server.received('user01'), server.received('user02')]).toEqual([1, 1]);
	});

	test('no connection at all (nothing listens at the OAPI Base URL): nothing went, so the recipients are Failed as network, not maybeSent', async () => {
		const server = await startServer();

		const result = await send({ server, credentials: credentialsFor(server, { oapiBaseUrl: 'http://127.0.0.1:9' }), operation: WORK, items: [{}], options: { ...FAST, maxRetries: 1 }, parameters: { agentId: AGENT, userIds: 'user01', ...text() } });

		expect(json(result.failed)).toEqual([expect.objectContaining({ userIds: ['user01'], sent: false, errorCode: 'network' })]);
		expect(json(result.failed)[0]).not.toHaveProperty('maybeSent');
		expect(json(result.failed)[0].errorMessage).toMatch(/it was not sent/);
	});

	test('every send API: a lost answer is never repeated (each person gets at most one message per item)', async () => {
		for (const [operation, path, parameters] of [
			[ONE_ON_ONE, PATHS.batchSend, { robotCode: 'dingRobotA', userIds: 'user01,user02', ...text() }],
			[GROUP_MESSAGE, PATHS.groupSend, { robotCode: 'dingRobotA', openConversationId: GROUP, ...text() }],
			[DING, PATHS.dingSend, { robotCode: 'dingRobotA', userIds: 'user01,user02', remindType: 'app', content: 'Look now' }],
			[WORK, PATHS.workNotificationSend, { agentId: AGENT, userIds: 'user01,user02', ...text() }],
		]) {
			const server = await startServer();
			server.injectFault(path, 'lostAnswer', 1);

			const result = await send({ server, operation, items: [{}], options: FAST, parameters });

			expect(server.callsTo(path)).toHaveLength(1);
			expect(result.success).toEqual([]);
			expect(json(result.failed)).toEqual([expect.objectContaining({ sent: false, maybeSent: true })]);
			for (const recipient of ['user01', 'user02', GROUP]) expect(server.received(recipient)).toBeLessThanOrEqual(1);
		}
	});
});

describe('bad input, setup errors, stops', () => {
	test('an item with no recipients, an empty text, a JSON message that is not an object, an expression left in Fixed mode: Failed as invalidInput naming the item; the others are sent', async () => {
		const server = await startServer();

		const result = await send({
			server,
			operation: ONE_ON_ONE,
			items: [{ to: 'user01', say: 'ok' }, { to: '', say: 'no one' }, { to: 'user02', say: '  ' }, { to: '{{ $json.userId', say: 'fixed' }],
			parameters: { robotCode: 'dingRobotA', userIds: '={{ $json.to }}', messageType: 'text', text: '={{ $json.say }}' },
		});
		const json2 = await send({ server, operation: ONE_ON_ONE, items: [{}], parameters: { robotCode: 'dingRobotA', userIds: 'user03', messageType: 'json', msgKey: 'sampleText', msgParam: '[1, 2]' } });

		expect(json(result.success)).toEqual([expect.objectContaining({ userIds: ['user01'] })]);
		expect(json(result.failed).map((item) => [item.errorCode, item.errorMessage.slice(0, 8)])).toEqual([
			['invalidInput', 'Item 1: '],
			['invalidInput', 'Item 2: '],
			['invalidInput', 'Item 3: '],
		]);
		expect(json(result.failed)[2].errorMessage).toMatch(/looks like an expression, but the field is in Fixed mode/);
		expect(json(json2.failed)).toEqual([expect.objectContaining({ errorCode: 'invalidInput', errorMessage: expect.stringMatching(/msgParam is not a JSON object/) })]);
		expect(server.callsTo(PATHS.batchSend)).toHaveLength(1);
	});

	test('one robot DingTalk does not know fails only its items; the other robot’s are sent', async () => {
		const server = await startServer();

		const result = await send({
			server,
			operation: ONE_ON_ONE,
			items: [{ robot: 'dingGone', to: 'user01' }, { robot: 'dingRobotA', to: 'user02' }, { robot: 'dingGone', to: 'user03' }],
			options: { concurrency: 1 },
			parameters: { robotCode: '={{ $json.robot }}', userIds: '={{ $json.to }}', ...text() },
		});

		expect(json(result.success)).toEqual([expect.objectContaining({ robotCode: 'dingRobotA', userIds: ['user02'] })]);
		expect(json(result.failed).map((item) => [item.userIds, item.errorCode])).toEqual([
			[['user01'], 'invalidParameter.robotCode'],
			[['user03'], 'invalidParameter.robotCode'],
		]);
		expect(server.callsTo(PATHS.batchSend)).toHaveLength(2);
	});

	test('the app losing its permission after some messages went out: the node stops and names how many went out, and their IDs', async () => {
		const server = await startServer();
		server.injectFault(PATHS.batchSend, 'none', 2);
		server.injectFault(PATHS.batchSend, 'permissionDenied', 1);

		const result = await send({ server, operation: ONE_ON_ONE, items: people(4).map((to) => ({ to })), options: { concurrency: 1 }, parameters: { robotCode: 'dingRobotA', userIds: '={{ $json.to }}', ...text() } });

		expect(result.error.name).toBe('NodeApiError');
		expect(result.error.message).toMatch(/AccessTokenPermissionDenied/);
		const sent = [...server.robotMessages.keys()];
		expect(sent).toHaveLength(2);
		expect(result.error.description).toMatch(/2 messages were sent before the node stopped/);
		for (const key of sent) expect(result.error.description).toContain(key);
	});

	test('with Continue On Fail, a whole-app refusal puts the messages not sent on Failed; those sent stay on Success', async () => {
		const server = await startServer();
		server.injectFault(PATHS.batchSend, 'none', 1);
		server.injectFault(PATHS.batchSend, 'permissionDenied', 1);

		const result = await send({ server, continueOnFail: true, operation: ONE_ON_ONE, items: people(3).map((to) => ({ to })), options: { concurrency: 1 }, parameters: { robotCode: 'dingRobotA', userIds: '={{ $json.to }}', ...text() } });

		expect(json(result.success).map((item) => item.userIds)).toEqual([['user0000']]);
		expect(json(result.failed).map((item) => [item.userIds, item.errorCode])).toEqual([
			[['user0001'], 'Forbidden.AccessDenied.AccessTokenPermissionDenied'],
			[['user0002'], 'Forbidden.AccessDenied.AccessTokenPermissionDenied'],
		]);
	});

	test('wrong keys with Continue On Fail: every item on Failed with DingTalk’s code, nothing sent', async () => {
		const server = await startServer();

		const result = await send({ server, credentials: credentialsFor(server, { clientSecret: 'wrong' }), continueOnFail: true, operation: GROUP_MESSAGE, items: [{}, {}], parameters: { robotCode: 'dingRobotA', openConversationId: GROUP, ...text() } });

		expect(json(result.failed).map((item) => [item.errorCode, item.sent])).toEqual([
			['invalidClientIdOrSecret', false],
			['invalidClientIdOrSecret', false],
		]);
		expect(server.callsTo(PATHS.groupSend)).toHaveLength(0);
	});

	test('a stop: no message starts after it; what never went is Failed as cancelled, never maybeSent', async () => {
		const server = await startServer({ latencyMs: 50 });
		let stop;
		server.onRequest = (call) => call.path === PATHS.groupSend && server.callsTo(PATHS.groupSend).length === 2 && setImmediate(stop);

		const result = await send({ server, operation: GROUP_MESSAGE, items: Array.from({ length: 10 }, () => ({})), options: { concurrency: 2 }, parameters: { robotCode: 'dingRobotA', openConversationId: GROUP, ...text() }, onStart: (s) => (stop = s) });

		expect(result.run.status).toBe('canceled');
		expect(server.callsTo(PATHS.groupSend).length).toBeLessThanOrEqual(3);
		// The messages on their way when the stop came may be out (maybeSent); the others never went.
		expect(json(result.failed).every((item) => item.errorCode === 'cancelled')).toBe(true);
		expect(json(result.failed).filter((item) => !item.maybeSent).length).toBeGreaterThanOrEqual(7);
		expect(server.received(GROUP)).toBeLessThanOrEqual(json(result.success).length + json(result.failed).filter((item) => item.maybeSent).length);
		expect(server.received(GROUP)).toBeGreaterThanOrEqual(json(result.success).length);
	});

	test('no secret or token in an output item, whatever DingTalk echoes', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server);
		server.injectFault(PATHS.batchSend, 'echoToken', 1);

		const result = await send({ server, credentials, operation: ONE_ON_ONE, items: [{}], parameters: { robotCode: 'dingRobotA', userIds: 'user01', ...text() } });

		const token = credentials.dataOf('cred-1').accessToken;
		expect(json(result.failed)).toEqual([expect.objectContaining({ errorCode: 'request.refused', sent: false })]);
		expect(JSON.stringify(result.run)).not.toContain(token);
		expect(JSON.stringify(result.run)).not.toContain('ding-app-secret');
	});
});

describe('Send → Recall with nothing filled in', () => {
	test('the Send node’s Success output, wired into the Recall node with its defaults, recalls every message', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server);
		const reference = { dingTalkApi: { id: 'cred-1', name: 'DingTalk test app' } };
		const nodes = [
			{ id: 'input', name: 'Input', type: 'test.input', typeVersion: 1, position: [0, 0], parameters: { runId: 'send-then-recall' } },
			{ id: 'send', name: 'Send', type: SEND_NODE_TYPE, typeVersion: 1, position: [200, 0], parameters: { operation: ONE_ON_ONE, robotCode: 'dingRobotA', userIds: '={{ $json.to }}', ...text() }, credentials: reference },
			// Only the operation is set: every key and robot parameter keeps its default.
			{ id: 'recall', name: 'Recall', type: NODE_TYPE, typeVersion: 1, position: [400, 0], parameters: { operation: 'recallRobotOneOnOneMessages' }, credentials: reference },
		];
		const connections = { Input: { main: [[{ node: 'Send', type: 'main', index: 0 }]] }, Send: { main: [[{ node: 'Recall', type: 'main', index: 0 }]] } };

		const run = await runWithInput('send-then-recall', [{ to: people(30) }, { to: ['user9999'] }], async () => await runWorkflow({ nodes, connections, credentials, startNode: 'Input' }));

		const [recalled, notRecalled] = run.data.resultData.runData.Recall[0].data.main.map((items) => items.map((item) => item.json));
		expect(notRecalled).toEqual([]);
		expect(recalled).toHaveLength(3);
		expect(recalled.every((item) => server.isRecalled(item.processQueryKey))).toBe(true);
	});
});
