'use strict';
const { startServer, credentialsFor, recallRobot, recallWork, json, PATHS, currentClock } = require('./support/fixture');

const { runWorkflow, NodeTypes } = require('./support/n8n-harness');

const SECRET = 'ding-app-secret';

/** Another node on the DingTalk API credential: it sends one robot message through n8n's httpRequestWithAuthentication. */
class TestSender {
	constructor() {
		this.description = {
			displayName: 'Test Sender',
			name: 'sender',
			group: ['output'],
			version: 1,
			description: 'Sends one DingTalk robot message',
			defaults: { name: 'Sender' },
			inputs: ['main'],
			outputs: ['main'],
			credentials: [{ name: 'dingTalkApi', required: true }],
			properties: [{ displayName: 'URL', name: 'url', type: 'string', default: '' }],
		};
	}

	async execute() {
		const body = await this.helpers.httpRequestWithAuthentication.call(this, 'dingTalkApi', {
			method: 'POST',
			url: this.getNodeParameter('url', 0),
			body: { robotCode: 'dingRobotA', userIds: ['manager01'], msgKey: 'sampleText', msgParam: '{"content":"alert"}' },
			json: true,
		});
		return [[{ json: body }]];
	}
}

describe('DingTalk API credential: getting, storing and renewing the access token', () => {
	let server;

	test('good keys: one token fetch, stored in the credential; a warm credential fetches none', async () => {
		server = await startServer();
		const credentials = credentialsFor(server);
		const first = await recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessages('dingRobotA', 3) }] });
		expect(first.success).toHaveLength(3);
		expect(server.tokenFetches).toBe(1);
		expect(credentials.updates).toBe(1);
		const token = credentials.dataOf('cred-1').accessToken;
		expect(token).toBeTruthy();

		const second = await recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessages('dingRobotA', 3) }] });
		expect(second.success).toHaveLength(3);
		expect(server.tokenFetches).toBe(1);
		expect(credentials.dataOf('cred-1').accessToken).toBe(token);
	});

	test('wrong keys stop the node with DingTalk’s own message and what to check, never the secret', async () => {
		server = await startServer({ apps: { 'ding-app-key': SECRET } });
		const credentials = credentialsFor(server, { clientSecret: 'wrong-secret-value' });
		const result = await recallRobot({ server, credentials, items: [{ keys: 'k1' }, { keys: 'k2' }] });

		expect(result.error).toBeDefined();
		expect(result.error.name).toBe('NodeApiError');
		expect(result.error.message).toMatch(/invalidClientIdOrSecret/);
		expect(result.error.message).toMatch(/无效的clientId或者clientSecret/);
		expect(result.error.description).toMatch(/Client ID and Client Secret|credential/);
		expect(JSON.stringify(result.run)).not.toContain('wrong-secret-value');
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(0);
		expect(server.callsTo(PATHS.accessToken)).toHaveLength(1);
	});

	test('wrong keys with Continue On Fail: every key goes to Failed with the error’s code', async () => {
		server = await startServer();
		const credentials = credentialsFor(server, { clientId: 'unknown-app' });
		const result = await recallRobot({ server, credentials, items: [{ keys: 'k1,k2' }, { keys: 'k3' }], continueOnFail: true });
		expect(result.error).toBeUndefined();
		expect(result.success).toHaveLength(0);
		expect(json(result.failed).map((item) => [item.processQueryKey, item.errorCode])).toEqual([
			['k1', 'invalidClientIdOrSecret'],
			['k2', 'invalidClientIdOrSecret'],
			['k3', 'invalidClientIdOrSecret'],
		]);
		expect(result.failed[0].json.errorMessage).toMatch(/invalidClientIdOrSecret/);
	});

	test('an unreachable host is a configuration error that names the environment to check', async () => {
		server = await startServer();
		const credentials = credentialsFor(server, { apiBaseUrl: 'http://127.0.0.1:9' });
		const result = await recallRobot({ server, credentials, items: [{ keys: 'k1' }] });
		expect(result.error.message).toMatch(/could not reach http:\/\/127\.0\.0\.1:9 \(connection refused\)/);
		expect(result.error.message).toMatch(/Environment/);
	});

	test('a Custom environment without base URLs stops the node and says which fields to fill in', async () => {
		server = await startServer();
		const result = await recallRobot({ server, credentials: credentialsFor(server, { oapiBaseUrl: '' }), items: [{ keys: 'k1' }] });
		expect(result.error.message).toMatch(/no base URL/);
		expect(result.error.description).toMatch(/API Base URL and OAPI Base URL/);
		expect(server.calls).toHaveLength(0);
	});

	test('a third-party enterprise app gets its token from corpAccessToken; a stale suite ticket is reported', async () => {
		const suites = { suiteKeyX: { suiteSecret: 'suite-secret-value', suiteTicket: 'ticket-1', corps: ['ding-corp'] } };
		server = await startServer({ suites });
		const thirdParty = { appType: 'thirdParty', suiteKey: 'suiteKeyX', suiteSecret: 'suite-secret-value', authCorpId: 'ding-corp', suiteTicket: 'ticket-1' };
		const good = await recallRobot({ server, credentials: credentialsFor(server, thirdParty), items: [{ keys: server.sendRobotMessage('dingRobotA') }] });
		expect(good.success).toHaveLength(1);
		expect(server.callsTo(PATHS.corpAccessToken)).toHaveLength(1);

		const stale = await recallRobot({ server, credentials: credentialsFor(server, { ...thirdParty, suiteTicket: 'ticket-0' }), items: [{ keys: 'k' }] });
		expect(stale.error.message).toMatch(/invalidSuiteTicket/);
		expect(stale.error.message).toMatch(/Suite Key, Suite Secret, Authorised Corp ID and Suite Ticket/);
		expect(JSON.stringify(stale.run)).not.toMatch(/suite-secret-value|ticket-0/);
	});

	test('an expired token on the api host (400 InvalidAuthentication) is renewed once, stored, and the call repeated', async () => {
		server = await startServer();
		// A token stored before this process used it (by another worker, or an earlier process), since expired by DingTalk.
		const issued = await fetch(`${server.apiBaseUrl}${PATHS.accessToken}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ appKey: server.credentialData().clientId, appSecret: SECRET }),
		});
		const oldToken = (await issued.json()).accessToken;
		const credentials = credentialsFor(server, { accessToken: oldToken, renewAt: currentClock().now() + 3_600_000 });
		server.expireAllTokens();

		const keys = server.sendRobotMessages('dingRobotA', 100);
		const result = await recallRobot({ server, credentials, items: keys.map((key) => ({ keys: key })) });

		expect(result.failed).toHaveLength(0);
		expect(result.success).toHaveLength(100);
		expect(server.tokenFetches).toBe(2);
		const newToken = credentials.dataOf('cred-1').accessToken;
		expect(newToken).not.toBe(oldToken);
		const refused = server.callsTo(PATHS.batchRecall).filter((call) => call.status === 400);
		expect(refused).toHaveLength(1);
		expect(refused[0].headerToken).toBe(oldToken);
	});

	test('right after a run, the next one trusts the token DingTalk just accepted: its first calls go together', async () => {
		server = await startServer({ latencyMs: 300 });
		const credentials = credentialsFor(server);
		await recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessage('dingRobotA') }] });
		const before = server.callsTo(PATHS.batchRecall).length;
		// For each call of the second run as it reaches DingTalk: how many of that run's calls were answered already.
		const answeredBeforeEach = [];
		server.onRequest = (call) => {
			if (call.path !== PATHS.batchRecall) return;
			answeredBeforeEach.push(server.callsTo(PATHS.batchRecall).slice(before).filter((earlier) => earlier !== call && earlier.status !== 0).length);
		};

		const keys = server.sendRobotMessages('dingRobotA', 100);
		const result = await recallRobot({ server, credentials, items: keys.map((key) => ({ keys: key })) });

		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(keys);
		// Five calls, none waiting for another's answer.
		expect(answeredBeforeEach).toEqual([0, 0, 0, 0, 0]);
	});

	test('a run with no token: once n8n has the new one, the calls after the first go without waiting for that call’s answer', async () => {
		server = await startServer({ latencyMs: 300 });
		const credentials = credentialsFor(server);
		// For each call as it reaches DingTalk: how many calls were answered already.
		const answeredBeforeEach = [];
		server.onRequest = (call) => {
			if (call.path !== PATHS.batchRecall) return;
			answeredBeforeEach.push(server.callsTo(PATHS.batchRecall).filter((earlier) => earlier !== call && earlier.status !== 0).length);
		};

		const keys = server.sendRobotMessages('dingRobotA', 100);
		const result = await recallRobot({ server, credentials, items: keys.map((key) => ({ keys: key })) });

		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(keys);
		expect(server.tokenFetches).toBe(1);
		// The first call carried the token request; the other four went with the token it got, none waiting for an answer.
		expect(answeredBeforeEach).toEqual([0, 0, 0, 0, 0]);
		expect(server.callsTo(PATHS.batchRecall).every((call) => call.headerToken === credentials.dataOf('cred-1').accessToken)).toBe(true);
	});

	test('a token DingTalk accepted moments ago and then voided: the calls on their way with it are repeated after one renewal', async () => {
		server = await startServer({ latencyMs: 300 });
		const credentials = credentialsFor(server);
		await recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessage('dingRobotA') }] });
		const oldToken = credentials.dataOf('cred-1').accessToken;
		server.expireAllTokens();

		const keys = server.sendRobotMessages('dingRobotA', 100);
		const result = await recallRobot({ server, credentials, items: keys.map((key) => ({ keys: key })) });

		expect(result.failed).toHaveLength(0);
		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(keys);
		expect(server.tokenFetches).toBe(2);
		const refused = server.callsTo(PATHS.batchRecall).filter((call) => call.status === 400);
		// More than the one call that would have tried the token alone, at most the Parallel Calls on their way; each repeated once.
		expect(refused.length).toBeGreaterThan(1);
		expect(refused.length).toBeLessThanOrEqual(5);
		expect(refused.every((call) => call.headerToken === oldToken)).toBe(true);
		expect(server.callsTo(PATHS.batchRecall).filter((call) => call.status === 200)).toHaveLength(1 + 5);
	});

	test('an expired token on the oapi host (errcode 42001) is renewed once and the notification recalled', async () => {
		server = await startServer();
		const credentials = credentialsFor(server);
		await recallWork({ server, credentials, items: [{ agentId: 836390886, taskId: server.sendWorkNotification('836390886') }] });
		server.expireAllTokens();

		const taskIds = [1, 2, 3, 4, 5, 6].map(() => server.sendWorkNotification('836390886'));
		const result = await recallWork({ server, credentials, items: taskIds.map((taskId) => ({ agentId: 836390886, taskId })) });

		expect(result.failed).toHaveLength(0);
		expect(result.success).toHaveLength(6);
		expect(server.tokenFetches).toBe(2);
		expect(server.callsTo(PATHS.workNotificationRecall).filter((call) => call.queryToken === credentials.dataOf('cred-1').accessToken)).toHaveLength(6);
	});

	test('a token past its lifetime is renewed before any call goes out with it, on both hosts', async () => {
		server = await startServer({ tokenLifetimeSeconds: 4 });
		const credentials = credentialsFor(server);
		const clock = currentClock();
		const issuedAround = clock.now();
		await recallWork({ server, credentials, items: [{ agentId: 836390886, taskId: server.sendWorkNotification('836390886') }] });
		const { accessToken: oldToken, renewAt } = credentials.dataOf('cred-1');
		// Renewed halfway through a token this short-lived (5 minutes before the end of DingTalk's 7200 s).
		expect(renewAt).toBeGreaterThanOrEqual(issuedAround + 2000);
		expect(renewAt).toBeLessThanOrEqual(clock.now() + 2000);
		clock.advance(4100);

		const work = await recallWork({ server, credentials, items: [{ agentId: 836390886, taskId: server.sendWorkNotification('836390886') }] });
		const robot = await recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessages('dingRobotA', 2) }] });

		expect([work.success.length, work.failed.length, robot.success.length, robot.failed.length]).toEqual([1, 0, 2, 0]);
		expect(server.tokenFetches).toBe(2);
		const newToken = credentials.dataOf('cred-1').accessToken;
		expect(newToken).not.toBe(oldToken);
		expect(credentials.dataOf('cred-1').renewAt).toBeGreaterThan(renewAt);
		// No call carried the old token after it was due: nothing was refused, nothing repeated.
		const recalls = [...server.callsTo(PATHS.workNotificationRecall), ...server.callsTo(PATHS.batchRecall)];
		expect(recalls.map((call) => call.queryToken ?? call.headerToken)).toEqual([oldToken, newToken, newToken]);
		expect(recalls.every((call) => call.status === 200 && !call.code)).toBe(true);
	});

	test('calls in flight that fail together on an expired token share one renewal', async () => {
		server = await startServer({ latencyMs: 15 });
		server.expireTokensAfter = 10; // every token dies after 10 recall calls
		const credentials = credentialsFor(server);
		const keys = server.sendRobotMessages('dingRobotA', 1200); // 60 calls, 5 in flight

		const result = await recallRobot({ server, credentials, items: [{ keys }] });

		expect(result.failed).toHaveLength(0);
		expect(result.success).toHaveLength(1200);
		const refused = server.callsTo(PATHS.batchRecall).filter((call) => call.status === 400);
		const renewals = server.tokenFetches - 1;
		expect(renewals).toBeGreaterThanOrEqual(5);
		expect(renewals).toBeLessThanOrEqual(7);
		// Several calls were refused at each expiry, yet each expiry cost one token fetch.
		expect(refused.length).toBeGreaterThan(renewals);
	});

	test('a token DingTalk rejects again right after renewal stops the node instead of looping', async () => {
		server = await startServer();
		server.expireTokensAfter = 0; // every token is refused at once
		const result = await recallRobot({ server, items: [{ keys: server.sendRobotMessages('dingRobotA', 40) }] });
		expect(result.error.description).toMatch(/access token it had just issued/);
		expect(server.tokenFetches).toBeLessThanOrEqual(3);
		expect(server.callsTo(PATHS.batchRecall).length).toBeLessThanOrEqual(6);
	});
});

describe('DingTalk API credential: where authenticate puts the token', () => {
	const { DingTalkApi } = require('../dist/credentials/DingTalkApi.credentials.js');
	const credential = new DingTalkApi();
	const credentials = { accessToken: 'token-1' };

	test('another node on n8n’s httpRequestWithAuthentication, with a token that is due but still valid: the call goes and works', async () => {
		const server = await startServer();
		const credentials = credentialsFor(server);
		await recallRobot({ server, credentials, items: [{ keys: server.sendRobotMessage('dingRobotA') }] });
		const stored = credentials.dataOf('cred-1');
		credentials.store.get('cred-1').data = { ...stored, renewAt: currentClock().now() - 1 }; // due, DingTalk still accepts it

		const nodes = [
			{
				id: 'sender',
				name: 'Sender',
				type: 'test.sender',
				typeVersion: 1,
				position: [200, 0],
				parameters: { url: `${server.apiBaseUrl}${PATHS.batchSend}` },
				credentials: { dingTalkApi: { id: 'cred-1', name: 'DingTalk test app' } },
			},
		];
		const run = await runWorkflow({
			nodes,
			connections: {},
			credentials,
			startNode: 'Sender',
			nodeTypes: new NodeTypes({ 'test.sender': new TestSender() }),
		});

		expect(run.data.resultData.error).toBeUndefined();
		const [sent] = run.data.resultData.runData.Sender[0].data.main[0];
		expect(server.robotMessages.has(sent.json.processQueryKey)).toBe(true);
		expect(server.callsTo(PATHS.batchSend)[0].headerToken).toBe(stored.accessToken);
	});

	test.each([
		['url', { url: 'http://127.0.0.1:1/v1.0/robot/oToMessages/batchSend' }],
		['baseURL and url', { baseURL: 'http://127.0.0.1:1', url: '/v1.0/robot/groupMessages/send' }],
		// n8n's legacy request helper, used by the HTTP Request node, names the address `uri`.
		['uri (HTTP Request node)', { uri: 'http://127.0.0.1:1/v1.0/robot/oToMessages/batchSend' }],
	])('new-style API by %s: the token goes in the x-acs-dingtalk-access-token header, not the query', async (_, options) => {
		const authenticated = await credential.authenticate(credentials, { method: 'POST', ...options });
		expect(authenticated.headers).toEqual({ 'x-acs-dingtalk-access-token': 'token-1' });
		expect(authenticated.qs?.access_token).toBeUndefined();
	});

	test('a due token is refused only to n8n’s legacy request helper (uri), which renews it and repeats; other helpers get it as it is', async () => {
		const due = { accessToken: 'token-1', renewAt: Date.now() - 1 };
		for (const uri of ['http://127.0.0.1:1/v1.0/robot/oToMessages/batchSend', 'http://127.0.0.1:1/topapi/message/corpconversation/asyncsend_v2']) {
			await expect(credential.authenticate(due, { method: 'POST', uri })).rejects.toThrow('The stored DingTalk access token is due for renewal');
		}
		// httpRequestWithAuthentication renews only after HTTP 401: failing there would fail a call a fresh token could serve.
		await expect(credential.authenticate(due, { method: 'POST', url: 'http://127.0.0.1:1/v1.0/robot/oToMessages/batchSend' })).resolves.toMatchObject({
			headers: { 'x-acs-dingtalk-access-token': 'token-1' },
		});
		// The token API (the credential's Test button) needs no token.
		await expect(credential.authenticate(due, { method: 'POST', uri: 'http://127.0.0.1:1/v1.0/oauth2/accessToken' })).resolves.toBeDefined();
		// A token not yet due, or one stored before the credential kept `renewAt`, is sent.
		const oapi = { method: 'POST', uri: 'http://127.0.0.1:1/topapi/message/corpconversation/asyncsend_v2' };
		await expect(credential.authenticate({ accessToken: 'token-1', renewAt: Date.now() + 60_000 }, oapi)).resolves.toMatchObject({ qs: { access_token: 'token-1' } });
		await expect(credential.authenticate(credentials, oapi)).resolves.toMatchObject({ qs: { access_token: 'token-1' } });
	});

	test.each([
		['url', { url: 'http://127.0.0.1:1/topapi/message/corpconversation/asyncsend_v2' }],
		['uri (HTTP Request node)', { uri: 'http://127.0.0.1:1/topapi/message/corpconversation/asyncsend_v2', qs: { x: '1' } }],
	])('old-style oapi by %s: the token goes in the access_token query parameter', async (_, options) => {
		const authenticated = await credential.authenticate(credentials, { method: 'POST', ...options });
		expect(authenticated.qs).toEqual({ ...options.qs, access_token: 'token-1' });
		expect(authenticated.headers?.['x-acs-dingtalk-access-token']).toBeUndefined();
	});
});

describe('DingTalk API credential: how a failed token request is sorted', () => {
	const { DingTalkApi } = require('../dist/credentials/DingTalkApi.credentials.js');
	const { tokenFailureIn } = require('../dist/credentials/DingTalkTokenRenewal.js');
	const credential = new DingTalkApi();
	const keys = { appType: 'internal', clientId: 'ding-app-key', clientSecret: SECRET, environment: 'china' };
	/** What n8n's httpRequest helper throws when no answer comes (its own timeout, 15 s here), or the connection fails. */
	const failingWith = (error) => ({ helpers: { httpRequest: async () => { throw error; } } });

	// `lost`: DingTalk may have answered, the request is repeated; `failed` with `network`: no connection at all, repeated, then a setup error.
	test.each([
		['a timeout', 'lost', 'timeout', Object.assign(new Error('timeout of 15000ms exceeded'), { code: 'ECONNABORTED' })],
		['a dropped connection', 'lost', 'network', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
		['a refused connection', 'failed', 'network', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
		['an unknown host', 'failed', 'network', { message: 'wrapped', cause: Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }) }],
	])('%s is sorted as %s (%s), and the error names no secret', async (_name, kind, code, error) => {
		const thrown = await credential.preAuthentication.call(failingWith(error), keys).catch((caught) => caught);
		const failure = tokenFailureIn({ message: 'n8n wraps it', cause: thrown });
		expect(failure.tokenAnswer).toMatchObject({ kind, code });
		expect(JSON.stringify({ ...failure, message: failure.message })).not.toContain(SECRET);
	});
});

describe('DingTalk API credential: the editor masks every secret', () => {
	test('Client Secret, Suite Secret, Suite Ticket and the stored token are password fields; IDs and URLs are not', () => {
		const { DingTalkApi } = require('../dist/credentials/DingTalkApi.credentials');
		const masked = new DingTalkApi().properties.filter((field) => field.typeOptions?.password).map((field) => field.name);
		expect(masked.sort()).toEqual(['accessToken', 'clientSecret', 'suiteSecret', 'suiteTicket']);
	});
});
