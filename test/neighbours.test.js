'use strict';
/**
 * The cases next to the ones earlier issues named, each as a user meets it: a setup error with Continue
 * On Fail, a key DingTalk clearly refused inside a 400, a gateway's 200, the token API's own refusals,
 * codes that are names of JavaScript's object methods, one robot's wrong code among several, and the
 * texts that tell a key's outcome.
 */
const http = require('node:http');
const path = require('node:path');
const { startServer, credentialsFor, recallRobot, recallWork, json, PATHS } = require('./support/fixture');
const { runNode, CredentialsHelper } = require('./support/n8n-harness');

const { DingTalkApi } = require(path.resolve(__dirname, '../dist/credentials/DingTalkApi.credentials.js'));
const { DingTalkRecallMessage } = require(path.resolve(__dirname, '../dist/nodes/DingTalkRecallMessage/DingTalkRecallMessage.node.js'));

const FAST = { retryDelay: 5 };
const AGENT = 836390886;
const OPS_GROUP = 'cidGroupOps+A1/xyz==';
const keysOf = (items) => json(items).map((item) => item.processQueryKey);

describe('A setup error before any call', () => {
	const setups = [
		['a Custom environment without an API base URL', (server) => credentialsFor(server, { apiBaseUrl: '' }), {}, 'missingBaseUrl'],
		['a credential that cannot be read', () => new CredentialsHelper(), {}, 'credentialUnavailable'],
		['options that cannot be read', (server) => credentialsFor(server), { batchSize: '={{ $("No Such Node").item.json.size }}' }, 'invalidOptions'],
	];

	test.each(setups)('with Continue On Fail, %s puts every key on Failed with the error’s code, none on Success', async (_name, credentialsOf, options, code) => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 3);
		const items = [{ keys: keys.slice(0, 2) }, { keys: keys[2] }];

		const result = await runNode({
			items,
			credentials: credentialsOf(server),
			continueOnFail: true,
			parameters: { operation: 'recallRobotOneOnOneMessages', robotCode: 'dingRobotA', processQueryKeys: '={{ $json.keys }}', options },
		});

		expect(result.error).toBeUndefined();
		expect(result.success).toEqual([]);
		expect(keysOf(result.failed)).toEqual(keys);
		expect(result.failed.map((item) => item.pairedItem.item)).toEqual([0, 0, 1]);
		for (const item of json(result.failed)) {
			expect(item).toMatchObject({ recalled: false, errorCode: code });
			expect(item.errorMessage.length).toBeGreaterThan(10);
		}
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(0);
	});

	test.each(setups)('without Continue On Fail, %s stops the node with a NodeApiError', async (_name, credentialsOf, options) => {
		const server = await startServer();
		const result = await runNode({
			items: [{ keys: 'k1' }],
			credentials: credentialsOf(server),
			parameters: { operation: 'recallRobotOneOnOneMessages', robotCode: 'dingRobotA', processQueryKeys: '={{ $json.keys }}', options },
		});
		expect(result.error?.name).toBe('NodeApiError');
		expect(result.success).toEqual([]);
	});
});

describe('Keys DingTalk named in a per-key result are heard, whatever the HTTP status', () => {
	test('400 notRevoke.all.messages with per-key results: the refused keys are clearly refused, never status-checked, never mayBeRecalled', async () => {
		const server = await startServer({ batchMode: 'notRevoke' });
		const [good] = server.sendRobotMessages('dingRobotA', 1);
		const othersKey = server.sendRobotMessage('dingRobotB');

		const result = await recallRobot({ server, items: [{ keys: [good, 'never-sent', othersKey] }], options: FAST });

		expect(keysOf(result.success)).toEqual([good]);
		const failed = json(result.failed);
		expect(failed.map((item) => [item.processQueryKey, item.errorCode])).toEqual([
			['never-sent', 'invalid.processQueryKey'],
			[othersKey, 'not.allowed.robotCode'],
		]);
		for (const item of failed) {
			expect(item).not.toHaveProperty('mayBeRecalled');
			expect(item.errorMessage).not.toMatch(/may have been recalled/);
		}
		expect(server.callsTo(PATHS.readStatus)).toHaveLength(0);
	});

	test('a 400 key refusal that names the bad key: the keys it does not name go again at once, also with Retries 0', async () => {
		const server = await startServer({ batchMode: 'strict' });
		const good = server.sendRobotMessages('dingRobotA', 3);
		const bad = 'not-a-key';
		const refusal = { code: 'invalid.processQueryKey', message: 'processQueryKey is invalid', requestid: 'r1', successResult: [], failedResult: { [bad]: 'invalid.processQueryKey' } };
		server.injectFault(PATHS.batchRecall, { status: 400, body: refusal }, 1);

		const result = await recallRobot({ server, items: [{ keys: [...good, bad] }], options: { ...FAST, maxRetries: 0 } });

		expect(keysOf(result.success)).toEqual(good);
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: bad, errorCode: 'invalid.processQueryKey' })]);
		expect(json(result.failed)[0]).not.toHaveProperty('mayBeRecalled');
		expect(server.callsTo(PATHS.batchRecall).map((call) => call.body.processQueryKeys)).toEqual([[...good, bad], good]);
		expect(server.callsTo(PATHS.readStatus)).toEqual([]);
	});

	test('a 400 whole-call refusal whose per-key fields are empty is a whole-call refusal: the bad key is isolated, the good ones recalled', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 4);
		server.injectFault(PATHS.batchRecall, {
			status: 400,
			body: { code: 'invalid.processQueryKey', message: 'processQueryKey is invalid', successResult: [], failedResult: {}, requestid: 'r-1' },
		});

		const result = await recallRobot({ server, items: [{ keys: [...keys, 'never-sent'] }], options: FAST });

		expect(keysOf(result.success)).toEqual(keys);
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: 'never-sent', errorCode: 'invalid.processQueryKey' })]);
	});

	test('an earlier answer lost, then a refusal on the repeat: the key stays mayBeRecalled (the read status cannot be had)', async () => {
		const server = await startServer({ batchMode: 'notRevoke' });
		const [key] = server.sendRobotMessages('dingRobotA', 1);
		server.injectFault(PATHS.batchRecall, 'lostAnswer', 1);
		server.injectFault(PATHS.readStatus, '502', 5);

		const result = await recallRobot({ server, items: [{ keys: key }], options: { ...FAST, maxRetries: 1 } });

		expect(server.isRecalled(key)).toBe(true);
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: key, mayBeRecalled: true })]);
	});
});

describe('A body that is not DingTalk’s is a lost answer on every API', () => {
	test.each([
		['a gateway’s HTTP 200 {}', { status: 200, body: {} }],
		['a proxy’s HTML page with HTTP 200', { status: 200, body: '<html><body>OK</body></html>', contentType: 'text/html' }],
		['a read status’s answer on the recall API', { status: 200, body: { sendStatus: 'SUCCESS' } }],
	])('robot batch recall answered with %s: repeated, and every key recalled', async (_name, answer) => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 3);
		server.injectFault(PATHS.batchRecall, answer);

		const result = await recallRobot({ server, items: [{ keys }], options: FAST });

		expect(result.failed).toEqual([]);
		expect(keysOf(result.success)).toEqual(keys);
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(2);
	});

	test('a gateway’s 200 {} after DingTalk recalled: the repeat is refused, the read status settles it as recalled', async () => {
		const server = await startServer({ batchMode: 'lenient' });
		const keys = server.sendRobotMessages('dingRobotA', 2);
		server.injectFault(PATHS.batchRecall, { status: 200, body: {}, acted: true });

		const result = await recallRobot({ server, items: [{ keys }], options: FAST });

		expect(json(result.success)).toEqual(keys.map((key) => expect.objectContaining({ processQueryKey: key, recalled: true, alreadyRecalled: true })));
		expect(result.failed).toEqual([]);
	});

	test('a 200 answer that names none of the call’s keys: they are asked again', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 2);
		server.injectFault(PATHS.batchRecall, { status: 200, body: { successResult: [], failedResult: {}, requestid: 'r-2' } });

		const result = await recallRobot({ server, items: [{ keys }], options: FAST });

		expect(keysOf(result.success)).toEqual(keys);
		expect(result.success.every((item) => item.json.alreadyRecalled === undefined)).toBe(true);
	});

	test('a DING answer with its openDingId and a code is DingTalk’s recall: Success', async () => {
		const server = await startServer();
		const ding = server.sendDing('dingRobotA');
		server.injectFault(PATHS.dingRecall, { status: 200, body: { openDingId: ding, code: 'ok', requestid: 'r-3' }, acted: true });

		const result = await runNode({
			items: [{ dings: ding }],
			credentials: credentialsFor(server),
			parameters: { operation: 'recallRobotDingMessages', robotCode: 'dingRobotA', openDingIds: '={{ $json.dings }}', options: FAST },
		});

		expect(json(result.success)).toEqual([expect.objectContaining({ openDingId: ding, recalled: true })]);
	});
});

describe('The token API’s answers, sorted as every other API’s', () => {
	test.each(['system.exception', 'UnknownError', 'ServiceException'])('400 %s from the token API is DingTalk failing for a moment: repeated, then every key recalled', async (code) => {
		const server = await startServer();
		server.injectFault(PATHS.accessToken, { status: 400, body: { code, message: 'internal', requestid: 'r-4' } });
		const keys = server.sendRobotMessages('dingRobotA', 2);

		const result = await recallRobot({ server, items: [{ keys }], options: FAST });

		expect(result.error).toBeUndefined();
		expect(keysOf(result.success)).toEqual(keys);
		expect(server.callsTo(PATHS.accessToken)).toHaveLength(2);
	});

	test.each([
		['the two base URLs swapped', (server) => ({ apiBaseUrl: server.oapiBaseUrl, oapiBaseUrl: server.apiBaseUrl }), undefined],
		['the old-style host answering errcode 22 (Invalid method), as DingTalk does', () => ({}), { status: 200, body: { errcode: 22, errmsg: 'Invalid method[v1.0.oauth2.accessToken]' } }],
	])('an API Base URL that leads to the old-style host (%s) is a configuration error that says to check the base URLs, after one token request', async (_name, urls, answer) => {
		const server = await startServer();
		if (answer) server.injectFault(PATHS.accessToken, answer, 5);
		const keys = server.sendRobotMessages('dingRobotA', 2);

		const result = await recallRobot({ server, credentials: credentialsFor(server, urls(server)), items: [{ keys }], options: FAST });

		expect(result.error?.name).toBe('NodeApiError');
		expect(result.error.message).toMatch(/API Base URL leads to DingTalk's old-style host/);
		expect(server.calls.filter((call) => call.path === PATHS.accessToken)).toHaveLength(1);
		expect(server.callsTo(PATHS.batchRecall)).toEqual([]);
	});

	test('403 IpNotInWhiteList from the token API says to add the IP to the allow-list, not to check the keys', async () => {
		const server = await startServer();
		server.injectFault(PATHS.accessToken, {
			status: 403,
			body: { code: 'Forbidden.AccessDenied.IpNotInWhiteList', message: '访问ip不在白名单之中，request ip=127.0.0.1', requestid: 'r-5' },
		});

		const result = await recallRobot({ server, items: [{ keys: 'k1' }], options: FAST });

		expect(result.error.name).toBe('NodeApiError');
		const said = `${result.error.message} ${result.error.description}`;
		expect(said).toMatch(/IpNotInWhiteList/);
		expect(said).toMatch(/allow-list/);
		expect(said).not.toMatch(/Check the Client ID/);
		expect(server.callsTo(PATHS.accessToken)).toHaveLength(1);
	});

	test('wrong keys: the error names DingTalk’s code (invalidClientIdOrSecret), and with Continue On Fail each key says what to check once', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server, { clientSecret: 'wrong-secret-value' });

		const stopped = await recallRobot({ server, credentials, items: [{ keys: 'k1' }] });
		expect(stopped.error.name).toBe('NodeApiError');
		expect(stopped.error.description).toMatch(/invalidClientIdOrSecret/);
		expect(stopped.error.description).not.toMatch(/accessTokenUnavailable/);

		const continued = await recallRobot({ server, credentials, items: [{ keys: 'k1' }], continueOnFail: true });
		const [item] = json(continued.failed);
		expect(item.errorCode).toBe('invalidClientIdOrSecret');
		expect(item.errorMessage.match(/Check/g)).toHaveLength(1);
		expect(JSON.stringify(continued.failed)).not.toContain('wrong-secret-value');
	});
});

describe('Codes that are names of JavaScript’s object methods are just codes', () => {
	test('a failedResult reason "toString" is shown as DingTalk’s reason', async () => {
		const server = await startServer();
		const [key] = server.sendRobotMessages('dingRobotA', 1);
		server.injectFault(PATHS.batchRecall, 'failedReason:toString', 10);

		const result = await recallRobot({ server, items: [{ keys: key }], options: { ...FAST, checkUnclear: false } });

		const [item] = json(result.failed);
		expect(item.errorCode).toBe('toString');
		expect(item.errorMessage).not.toMatch(/function|native code/);
		expect(item.errorMessage).toMatch(/toString/);
	});

	test('a whole-call refusal with the code "constructor" is a refusal of those keys, not a setup error', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 2);
		server.injectFault(PATHS.batchRecall, 'refuse:constructor', 10);

		const result = await recallRobot({ server, items: [{ keys }], options: FAST });

		expect(result.error).toBeUndefined();
		expect(json(result.failed).map((item) => item.errorCode)).toEqual(['constructor', 'constructor']);
	});
});

describe('A configuration error of one robot or one chat fails only that pool', () => {
	test('a wrong robotCode among two: its keys Failed with invalidParameter.robotCode and what to fix; the other robot’s keys recalled; no stop', async () => {
		const server = await startServer();
		const good = server.sendRobotMessages('dingRobotA', 3);

		const result = await recallRobot({
			server,
			items: [{ robot: 'dingNoSuchRobot', keys: 'x1,x2' }, { robot: 'dingRobotA', keys: good }],
			robotCode: '={{ $json.robot }}',
			options: FAST,
		});

		expect(result.error).toBeUndefined();
		expect(keysOf(result.success)).toEqual(good);
		const failed = json(result.failed);
		expect(failed.map((item) => [item.processQueryKey, item.errorCode])).toEqual([['x1', 'invalidParameter.robotCode'], ['x2', 'invalidParameter.robotCode']]);
		expect(failed[0].errorMessage).toMatch(/RobotCode/);
		// One call told it: the robot's other batches were not sent.
		expect(server.callsTo(PATHS.batchRecall).filter((call) => call.body.robotCode === 'dingNoSuchRobot')).toHaveLength(1);
	});

	test('a robot refused as a whole after DingTalk already refused one of its keys: that key keeps DingTalk’s own code', async () => {
		const server = await startServer({ batchMode: 'strict' });
		const [g1, g2, g3] = server.sendRobotMessages('dingRobotA', 3);
		// The first batch is split to isolate the bad key (three calls as DingTalk answers them), then the robot is refused.
		server.injectFault(PATHS.batchRecall, 'none', 3);
		server.injectFault(PATHS.batchRecall, { status: 400, body: { code: 'invalidParameter.robotCode', message: 'robot not exist', requestid: 'r5' } }, 1);

		const result = await recallRobot({ server, items: [{ keys: [g1, 'bad-key', g2, g3] }], options: { ...FAST, concurrency: 1, batchSize: 2 } });

		expect(keysOf(result.success)).toEqual([g1]);
		expect(json(result.failed).map((item) => [item.processQueryKey, item.errorCode])).toEqual([
			['bad-key', 'invalid.processQueryKey'],
			[g2, 'invalidParameter.robotCode'],
			[g3, 'invalidParameter.robotCode'],
		]);
	});

	test('a DING robot that does not exist fails only its DINGs', async () => {
		const server = await startServer();
		const dings = server.sendDings('dingRobotA', 2);
		server.injectFault(PATHS.dingRecall, { status: 400, body: { code: 'invalidParameter.robotCode', message: 'robot not exist', requestid: 'r-6' } });

		const result = await runNode({
			items: [{ robot: 'dingGone', dings: 'd-1,d-2' }, { robot: 'dingRobotA', dings }],
			credentials: credentialsFor(server),
			parameters: { operation: 'recallRobotDingMessages', robotCode: '={{ $json.robot }}', openDingIds: '={{ $json.dings }}', options: { ...FAST, concurrency: 1 } },
		});

		expect(result.error).toBeUndefined();
		expect(json(result.success).map((item) => item.openDingId)).toEqual(dings);
		expect(json(result.failed).map((item) => item.errorCode)).toEqual(['invalidParameter.robotCode', 'invalidParameter.robotCode']);
	});
});

describe('Texts that never contradict themselves', () => {
	test('a DING DingTalk refused says DingTalk’s code and its detail without claiming the opposite', async () => {
		const server = await startServer();
		const ding = server.sendDing('dingRobotA');
		server.dings.get(ding).recalled = true;

		const result = await runNode({
			items: [{ dings: ding }],
			credentials: credentialsFor(server),
			parameters: { operation: 'recallRobotDingMessages', robotCode: 'dingRobotA', openDingIds: '={{ $json.dings }}', options: FAST },
		});

		const [item] = json(result.failed);
		expect(item.errorCode).toBe('recall.ding.exception');
		expect(item.errorMessage).toMatch(/recall\.ding\.exception/);
		expect(item.errorMessage).toMatch(/ding has already been recalled/);
		expect(item.errorMessage).not.toMatch(/did not recall the DING: the ding has/);
		// No answer was lost: DingTalk's word is clear.
		expect(item).not.toHaveProperty('mayBeRecalled');
	});

	test('a DING refused as "already expired" is not taken for "already recalled"', async () => {
		const server = await startServer();
		const ding = server.sendDing('dingRobotA');
		server.injectFault(PATHS.dingRecall, { status: 400, body: { code: 'recall.ding.exception', message: 'recall.ding.exception ding already expired', requestid: 'r-7' } });

		const result = await runNode({
			items: [{ dings: ding }],
			credentials: credentialsFor(server),
			parameters: { operation: 'recallRobotDingMessages', robotCode: 'dingRobotA', openDingIds: '={{ $json.dings }}', options: FAST },
		});

		const [item] = json(result.failed);
		expect(item).not.toHaveProperty('mayBeRecalled');
		expect(item.errorMessage).not.toMatch(/may have been recalled/);
	});

	test('the stop error counts only what this run recalled; what the read status showed recalled before is told apart', async () => {
		const server = await startServer({ batchMode: 'lenient' });
		const [before, now] = server.sendRobotMessages('dingRobotA', 2);
		server.robotMessages.get(before).recalled = true;
		server.injectFault(PATHS.batchRecall, 'none', 1);
		server.injectFault(PATHS.batchRecall, 'permissionDenied', 10);

		const result = await recallRobot({ server, items: [{ keys: [before, now, 'k3'] }], options: { ...FAST, batchSize: 2, concurrency: 1 } });

		expect(result.error.name).toBe('NodeApiError');
		expect(result.error.description).toMatch(/recalled 1 message in this run before it stopped: /);
		expect(result.error.description).toContain(now);
		expect(result.error.description).not.toMatch(/recalled 2 messages in this run/);
	});

	test('the Retry Delay option says what it does: the wait is between half and all of it, and at most 8 s', () => {
		const { options } = new DingTalkRecallMessage().description.properties.find((property) => property.name === 'options');
		const retryDelay = options.find((option) => option.name === 'retryDelay');
		expect(retryDelay.description).toMatch(/half/);
		expect(retryDelay.description).toMatch(/8 s/);
	});
});

describe('Where the token goes is decided by the credential’s base URLs, not by the path', () => {
	const credential = new DingTalkApi();
	const credentials = {
		environment: 'custom',
		apiBaseUrl: 'https://gateway.example/dingtalk-api',
		oapiBaseUrl: 'https://gateway.example/v1.0/oapi',
		accessToken: 'tok',
	};

	test('an OAPI base URL whose path looks versioned still gets the token as access_token', async () => {
		const options = await credential.authenticate(credentials, { url: 'https://gateway.example/v1.0/oapi/topapi/message/corpconversation/recall' });
		expect(options.qs).toEqual({ access_token: 'tok' });
		expect(options.headers?.['x-acs-dingtalk-access-token']).toBeUndefined();
	});

	test('an API base URL whose path has no version gets the header', async () => {
		const options = await credential.authenticate(credentials, { url: 'https://gateway.example/dingtalk-api/v1.0/robot/otoMessages/batchRecall' });
		expect(options.headers['x-acs-dingtalk-access-token']).toBe('tok');
		expect(options.qs?.access_token).toBeUndefined();
	});

	test('China: api.dingtalk.com gets the header and oapi.dingtalk.com the query, also as the HTTP Request node’s uri', async () => {
		const china = { environment: 'china', accessToken: 'tok' };
		expect((await credential.authenticate(china, { url: 'https://api.dingtalk.com/v1.0/robot/groupMessages/send' })).headers['x-acs-dingtalk-access-token']).toBe('tok');
		expect((await credential.authenticate(china, { uri: 'https://oapi.dingtalk.com/topapi/message/corpconversation/asyncsend_v2' })).qs).toEqual({ access_token: 'tok' });
	});
});

describe('Work notifications keep their reading', () => {
	test('a work notification answered HTTP 200 with a page that is not DingTalk’s: repeated, recalled', async () => {
		const server = await startServer();
		const taskId = server.sendWorkNotification(AGENT);
		server.injectFault(PATHS.workNotificationRecall, { status: 200, body: { ok: true } });

		const result = await recallWork({ server, items: [{ agentId: AGENT, taskId }], options: FAST });

		expect(json(result.success)).toEqual([expect.objectContaining({ msgTaskId: taskId, recalled: true })]);
	});

	test('a group chat the robot left fails that chat only; another chat is recalled', async () => {
		const server = await startServer();
		const ops = server.sendChatMessages('dingRobotA', OPS_GROUP, 2);
		server.conversations.get('cidGroupDev+B2/xyz==').robots.delete('dingRobotA');
		const result = await runNode({
			items: [{ chat: 'cidGroupDev+B2/xyz==', keys: 'g1' }, { chat: OPS_GROUP, keys: ops }],
			credentials: credentialsFor(server),
			parameters: { operation: 'recallRobotGroupMessages', robotCode: 'dingRobotA', openConversationId: '={{ $json.chat }}', processQueryKeys: '={{ $json.keys }}', options: FAST },
		});
		expect(result.error).toBeUndefined();
		expect(keysOf(result.success)).toEqual(ops);
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: 'g1', errorCode: 'invalid.openConversationId' })]);
	});
});

describe('The next ring of neighbours: what a review of the one answer table found', () => {
	test.each(['system.busy', 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi'])(
		'a failedResult reason %s is DingTalk busy, not a refusal: the key is asked again and recalled',
		async (reason) => {
			const server = await startServer();
			const keys = server.sendRobotMessages('dingRobotA', 2);
			server.injectFault(PATHS.batchRecall, `failedReason:${reason}`);

			const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, checkUnclear: false } });

			expect(result.failed).toEqual([]);
			expect(json(result.success)).toEqual(keys.map((key) => expect.objectContaining({ processQueryKey: key, recalled: true })));
		},
	);

	test('a whole-call invalidParameter.param.invalid is about the call, not a key: a batch costs at most three calls', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 8);
		server.injectFault(PATHS.batchRecall, { status: 400, body: { code: 'invalidParameter.param.invalid', message: 'param invalid', requestid: 'r-6' } }, 50);

		const result = await recallRobot({ server, items: [{ keys }], options: FAST });

		expect(json(result.failed).map((item) => item.errorCode)).toEqual(keys.map(() => 'invalidParameter.param.invalid'));
		expect(server.callsTo(PATHS.batchRecall).length).toBeLessThanOrEqual(3);
	});

	test('keys a repeated answer named as recalled stay recalled: a 500 with successResult, then the repeat refuses them as already recalled', async () => {
		const server = await startServer({ batchMode: 'lenient' });
		const keys = server.sendRobotMessages('dingRobotA', 2);
		server.injectFault(PATHS.batchRecall, { status: 500, body: { code: 'system.error', message: 'internal', successResult: keys, failedResult: {}, requestid: 'r-7' }, acted: true });

		const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, checkUnclear: false } });

		expect(result.failed).toEqual([]);
		expect(json(result.success)).toEqual(keys.map((key) => expect.objectContaining({ processQueryKey: key, recalled: true })));
		expect(result.success.every((item) => item.json.alreadyRecalled === undefined)).toBe(true);
	});

	test('a 400 per-key answer without a code is DingTalk’s per-key answer: the refused key is clearly refused, the other recalled', async () => {
		const server = await startServer({ batchMode: 'lenient' });
		const [good] = server.sendRobotMessages('dingRobotA', 1);
		server.injectFault(PATHS.batchRecall, {
			status: 400,
			body: { successResult: [good], failedResult: { 'never-sent': 'invalid.processQueryKey' }, requestid: 'r-8' },
			acted: true,
		});

		const result = await recallRobot({ server, items: [{ keys: [good, 'never-sent'] }], options: FAST });

		expect(json(result.success)).toEqual([expect.objectContaining({ processQueryKey: good, recalled: true })]);
		expect(result.success[0].json.alreadyRecalled).toBeUndefined();
		const [refused] = json(result.failed);
		expect(refused).toMatchObject({ processQueryKey: 'never-sent', errorCode: 'invalid.processQueryKey' });
		expect(refused).not.toHaveProperty('mayBeRecalled');
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(1);
	});

	test('the token API throttled once is waited out as a throttle, even with Retries 0', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 2);
		server.injectFault(PATHS.accessToken, {
			status: 403,
			body: { code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', message: 'qps limit', requestid: 'r-9' },
		});

		const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, maxRetries: 0 } });

		expect(result.error).toBeUndefined();
		expect(keysOf(result.success)).toEqual(keys);
		expect(server.callsTo(PATHS.accessToken)).toHaveLength(2);
	});

	test('a ban page from the token API is waited out for as long as it asks, not for Retry Delay', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 1);
		server.injectFault(PATHS.accessToken, 'ban');

		const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, maxRetries: 0 } });

		expect(result.error).toBeUndefined();
		expect(keysOf(result.success)).toEqual(keys);
		const [banned, renewed] = server.callsTo(PATHS.accessToken);
		expect(renewed.at - banned.at).toBeGreaterThanOrEqual(server.banWaitSeconds * 1000);
	});

	test('an error the node names itself (no DingTalk API at the address) says its code without calling it DingTalk’s', async () => {
		const server = await startServer();
		const notDingTalk = http.createServer((_request, response) => response.writeHead(404, { 'content-type': 'text/plain' }).end('not found'));
		await new Promise((resolve) => notDingTalk.listen(0, '127.0.0.1', resolve));
		try {
			const address = `http://127.0.0.1:${notDingTalk.address().port}`;
			const credentials = credentialsFor(server, { apiBaseUrl: address, oapiBaseUrl: address });
			const result = await recallRobot({ server, credentials, items: [{ keys: 'k1' }], options: FAST });
			expect(result.error.name).toBe('NodeApiError');
			expect(result.error.description).toMatch(/\(code: http404\)/);
			expect(result.error.description).not.toMatch(/DingTalk code/);
		} finally {
			await new Promise((resolve) => notDingTalk.close(resolve));
		}
	});

	test('a token DingTalk issued and at once rejected again does not send the user to the Test button, which would pass', async () => {
		const server = await startServer();
		server.injectFault(PATHS.batchRecall, 'tokenExpired', 2);

		const result = await recallRobot({ server, items: [{ keys: 'k1' }], options: FAST });

		expect(result.error.name).toBe('NodeApiError');
		expect(result.error.description).not.toMatch(/Test button/);
		expect(result.error.description).toMatch(/DingTalk code: /);
	});

	test('a read status refused for the whole robot is asked once, not once per key', async () => {
		const server = await startServer({ batchMode: 'notRevokeBare' });
		const keys = server.sendRobotMessages('dingRobotA', 5);
		server.injectFault(PATHS.readStatus, { status: 403, body: { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied', message: 'no permission', requestid: 'r-10' } }, 10);

		const result = await recallRobot({ server, items: [{ keys: [...keys, 'never-sent'] }], options: FAST });

		expect(result.failed.length + result.success.length).toBe(6);
		expect(server.callsTo(PATHS.readStatus)).toHaveLength(1);
	});

	test('Check Unclear Keys given as the text "false" by an expression is off', async () => {
		const server = await startServer();
		const [key] = server.sendRobotMessages('dingRobotA', 1);
		server.injectFault(PATHS.batchRecall, 'lostAnswer', 10);

		const result = await recallRobot({ server, items: [{ keys: key }], options: { ...FAST, maxRetries: 0, checkUnclear: '={{ "false" }}' } });

		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: key, mayBeRecalled: true })]);
		expect(server.callsTo(PATHS.readStatus)).toHaveLength(0);
	});

	test('an operation the node does not know stops with an error naming it, instead of recalling as another', async () => {
		const server = await startServer();
		const [key] = server.sendRobotMessages('dingRobotA', 1);
		const result = await runNode({
			items: [{ keys: key }],
			credentials: credentialsFor(server),
			parameters: { operation: 'recallSomethingElse', robotCode: 'dingRobotA', processQueryKeys: '={{ $json.keys }}', options: FAST },
		});
		expect(result.error?.message).toMatch(/recallSomethingElse/);
		expect(server.isRecalled(key)).toBe(false);
	});
});
