'use strict';
/**
 * The send side, as a user builds it: n8n's own HTTP Request node with Authentication "Predefined Credential
 * Type" → DingTalk API sends robot one-on-one messages, group messages, work notifications and DINGs to
 * the DingTalk-compatible server, and DingTalk Recall Message nodes recall every key, task id and openDingId
 * those sends returned — in a real n8n, once per version. Then again after the stored token expired between runs (n8n's
 * legacy request helper renews it after the refused call), and a work notification alone after its token ran out
 * (the oapi host answers an expired token with HTTP 200, so the credential renews it before it is due).
 */
const { DingTalkServer, PATHS } = require('../support/dingtalk-server');
const { RealN8n, N8N_VERSIONS } = require('./real-n8n');

const CREDENTIAL = { id: 'dtE2eHttpCred001', name: 'DingTalk API (test server)' };
/** A second app on a server whose tokens live 3 s, to let a stored token run out between two runs. */
const SHORT_LIVED = { id: 'dtE2eHttpCred002', name: 'DingTalk API (3 s tokens)' };
const ROBOT = 'dingRobotA';
const GROUP = 'cidGroupOps+A1/xyz==';
const AGENT = '836390886';
const RECALL_NODE = 'n8n-nodes-dingtalk-recall.dingTalkRecallMessage';

/** An HTTP Request node that POSTs a JSON body with the DingTalk API credential, as the editor saves it. */
function httpRequestNode(name, position, url, jsonBody, typeVersion) {
	return {
		id: name,
		name,
		type: 'n8n-nodes-base.httpRequest',
		typeVersion,
		position,
		parameters: {
			method: 'POST',
			url,
			authentication: 'predefinedCredentialType',
			nodeCredentialType: 'dingTalkApi',
			sendBody: true,
			specifyBody: 'json',
			jsonBody,
			options: {},
		},
		credentials: { dingTalkApi: CREDENTIAL },
	};
}

function recallNode(name, position, parameters) {
	return { id: name, name, type: RECALL_NODE, typeVersion: 1, position, parameters: { ...parameters, options: {} }, credentials: { dingTalkApi: CREDENTIAL } };
}

const connect = (...targets) => ({ main: [targets.map((node) => ({ node, type: 'main', index: 0 }))] });

/** Start → Alerts → One item per alert: two alert items, `$json.text` each. */
function alertNodes() {
	return [
		{ id: 's1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
		{
			id: 's2',
			name: 'Alerts',
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			position: [200, 0],
			parameters: { mode: 'raw', jsonOutput: JSON.stringify({ alerts: [{ text: 'Disk full on db-1' }, { text: 'API latency over 2 s' }] }), options: {} },
		},
		{ id: 's3', name: 'One item per alert', type: 'n8n-nodes-base.splitOut', typeVersion: 1, position: [400, 0], parameters: { fieldToSplitOut: 'alerts', options: {} } },
	];
}

/**
 * Two alerts, each sent three ways (a one-on-one robot message, a group message, a work notification),
 * then everything recalled by three DingTalk Recall Message nodes.
 */
function sendAndRecallWorkflow(id, server, httpVersion) {
	return {
		id,
		name: 'Send with the HTTP Request node, then recall',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			...alertNodes(),
			httpRequestNode(
				'Send one-on-one',
				[600, 0],
				`${server.apiBaseUrl}${PATHS.batchSend}`,
				`={ "robotCode": "${ROBOT}", "userIds": ["manager01"], "msgKey": "sampleText", "msgParam": {{ JSON.stringify(JSON.stringify({ content: $json.text })) }} }`,
				httpVersion,
			),
			httpRequestNode(
				'Send to group',
				[800, 0],
				`${server.apiBaseUrl}${PATHS.groupSend}`,
				`={ "robotCode": "${ROBOT}", "openConversationId": "${GROUP}", "msgKey": "sampleText", "msgParam": {{ JSON.stringify(JSON.stringify({ content: $('One item per alert').item.json.text })) }} }`,
				httpVersion,
			),
			httpRequestNode(
				'Send work notification',
				[1000, 0],
				`${server.oapiBaseUrl}${PATHS.workNotificationSend}`,
				`={ "agent_id": ${AGENT}, "userid_list": "manager01", "msg": { "msgtype": "text", "text": { "content": {{ JSON.stringify($('One item per alert').item.json.text) }} } } }`,
				httpVersion,
			),
			recallNode('Recall one-on-one', [1250, -200], {
				operation: 'recallRobotOneOnOneMessages',
				robotCode: ROBOT,
				processQueryKeys: "={{ $('Send one-on-one').item.json.processQueryKey }}",
			}),
			recallNode('Recall group', [1250, 0], {
				operation: 'recallRobotGroupMessages',
				robotCode: ROBOT,
				openConversationId: GROUP,
				processQueryKeys: "={{ $('Send to group').item.json.processQueryKey }}",
			}),
			recallNode('Recall work notification', [1250, 200], { operation: 'recallWorkNotification', agentId: AGENT, msgTaskId: '={{ $json.task_id }}' }),
		],
		connections: {
			Start: connect('Alerts'),
			Alerts: connect('One item per alert'),
			'One item per alert': connect('Send one-on-one'),
			'Send one-on-one': connect('Send to group'),
			'Send to group': connect('Send work notification'),
			'Send work notification': connect('Recall one-on-one', 'Recall group', 'Recall work notification'),
		},
	};
}

/** Two alerts, each sent as an in-app DING by the robot (ding/send returns openDingId), then every DING recalled. */
function dingWorkflow(id, server, httpVersion) {
	return {
		id,
		name: 'Send DINGs with the HTTP Request node, then recall them',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			...alertNodes(),
			httpRequestNode(
				'Send DING',
				[600, 0],
				`${server.apiBaseUrl}${PATHS.dingSend}`,
				`={ "robotCode": "${ROBOT}", "remindType": 1, "receiverUserIdList": ["manager01"], "content": {{ JSON.stringify($json.text) }} }`,
				httpVersion,
			),
			recallNode('Recall DING', [850, 0], { operation: 'recallRobotDingMessages', robotCode: ROBOT, openDingIds: '={{ $json.openDingId }}' }),
		],
		connections: {
			Start: connect('Alerts'),
			Alerts: connect('One item per alert'),
			'One item per alert': connect('Send DING'),
			'Send DING': connect('Recall DING'),
		},
	};
}

/** A workflow whose only DingTalk call is a work notification sent by the HTTP Request node (oapi host). */
function workNotificationOnlyWorkflow(id, server, credential, httpVersion) {
	const node = httpRequestNode(
		'Send work notification',
		[250, 0],
		`${server.oapiBaseUrl}${PATHS.workNotificationSend}`,
		`={ "agent_id": ${AGENT}, "userid_list": "manager01", "msg": { "msgtype": "text", "text": { "content": "Backup finished" } } }`,
		httpVersion,
	);
	return {
		id,
		name: 'A work notification with the HTTP Request node',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{ id: 'w1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{ ...node, credentials: { dingTalkApi: credential } },
		],
		connections: { Start: { main: [[{ node: 'Send work notification', type: 'main', index: 0 }]] } },
	};
}

function resultDataOf(run) {
	const resultData = run.resultData ?? run.data?.resultData;
	if (resultData.error) throw new Error(`the workflow failed: ${resultData.error.message}`);
	return resultData;
}

/** A node's outputs in a run: main output 0 (Success) and 1 (Failed) as plain JSON. */
function outputOf(run, node) {
	const [success = [], failed = []] = resultDataOf(run).runData[node][0].data.main;
	return { success: success.map((item) => item.json), failed: failed.map((item) => item.json) };
}

describe.each(N8N_VERSIONS)('the HTTP Request node with the DingTalk API credential, in a real n8n %s', (version) => {
	let server;
	let shortLived;
	let n8n;
	let httpVersion;

	beforeAll(async () => {
		server = await new DingTalkServer({ batchMode: 'lenient', agents: [AGENT] }).start();
		shortLived = await new DingTalkServer({ agents: [AGENT], tokenLifetimeSeconds: 3 }).start();
		n8n = new RealN8n({ version });
		httpVersion = n8n.isV1 ? 4.3 : 4.5; // what a new HTTP Request node is in each version
		n8n.installPackage();
		await n8n.importCredentials([
			{ ...CREDENTIAL, type: 'dingTalkApi', data: server.credentialData() },
			{ ...SHORT_LIVED, type: 'dingTalkApi', data: shortLived.credentialData() },
		]);
		await n8n.importWorkflow(sendAndRecallWorkflow('dtE2eHttpSend001', server, httpVersion));
		await n8n.importWorkflow(dingWorkflow('dtE2eHttpDing001', server, httpVersion));
		await n8n.importWorkflow(workNotificationOnlyWorkflow('dtE2eHttpWork001', shortLived, SHORT_LIVED, httpVersion));
	}, 900_000);

	afterAll(async () => {
		await server?.stop();
		await shortLived?.stop();
		n8n?.cleanUp();
	});

	async function stored(id) {
		return (await n8n.exportCredentials()).find((credential) => credential.id === id).data;
	}

	/** Runs the send-and-recall workflow; returns what its sends returned and what the server saw meanwhile. */
	async function sendAndRecall() {
		const seen = server.calls.length;
		const run = await n8n.execute('dtE2eHttpSend001');
		const calls = server.calls.slice(seen);
		const sent = {
			oneOnOne: outputOf(run, 'Send one-on-one').success.map((item) => item.processQueryKey),
			group: outputOf(run, 'Send to group').success.map((item) => item.processQueryKey),
			workNotifications: outputOf(run, 'Send work notification').success.map((item) => item.task_id),
		};
		return { run, calls, sent };
	}

	test('sends on both hosts with the token where each wants it; the recall nodes recall every key and task id', async () => {
		const { run, calls, sent } = await sendAndRecall();

		expect(sent.oneOnOne).toHaveLength(2);
		expect(sent.group).toHaveLength(2);
		expect(sent.workNotifications).toHaveLength(2);
		// The node sends its two items together, so each may fetch a token first: DingTalk hands both the same.
		expect(server.tokenFetches).toBeGreaterThanOrEqual(1);
		expect(server.tokenFetches).toBeLessThanOrEqual(2);
		expect(server.tokens.size).toBe(1);
		const [token] = server.tokenOfApp.values();
		const to = (path) => calls.filter((call) => call.path === path);
		for (const path of [PATHS.batchSend, PATHS.groupSend]) {
			expect(to(path).map((call) => [call.status, call.headerToken, call.queryToken])).toEqual([
				[200, token, undefined],
				[200, token, undefined],
			]);
		}
		expect(to(PATHS.workNotificationSend).map((call) => [call.status, call.queryToken, call.headerToken])).toEqual([
			[200, token, undefined],
			[200, token, undefined],
		]);
		// The server kept what the HTTP Request node sent: one-on-one, and in the group.
		expect(sent.oneOnOne.map((key) => server.robotMessages.get(key).chat)).toEqual(['oto', 'oto']);
		expect(sent.group.map((key) => server.robotMessages.get(key).openConversationId)).toEqual([GROUP, GROUP]);

		expect(outputOf(run, 'Recall one-on-one')).toEqual({
			success: sent.oneOnOne.map((processQueryKey) => expect.objectContaining({ processQueryKey, robotCode: ROBOT, recalled: true })),
			failed: [],
		});
		expect(outputOf(run, 'Recall group')).toEqual({
			success: sent.group.map((processQueryKey) => expect.objectContaining({ processQueryKey, openConversationId: GROUP, recalled: true })),
			failed: [],
		});
		expect(outputOf(run, 'Recall work notification')).toEqual({
			success: sent.workNotifications.map((msgTaskId) => expect.objectContaining({ msgTaskId, recalled: true })),
			failed: [],
		});
		expect([...sent.oneOnOne, ...sent.group].every((key) => server.isRecalled(key))).toBe(true);
		expect(sent.workNotifications.every((taskId) => server.isNotificationRecalled(taskId))).toBe(true);

		expect((await stored(CREDENTIAL.id)).accessToken).toBe(token);
	});

	test('after the stored token expired between runs: the HTTP Request node renews it, n8n stores it, all sent and recalled', async () => {
		const before = await stored(CREDENTIAL.id);
		const fetchesBefore = server.tokenFetches;
		server.expireAllTokens();

		const { run, calls, sent } = await sendAndRecall();

		const renewed = (await stored(CREDENTIAL.id)).accessToken;
		expect(renewed).toBeTruthy();
		expect(renewed).not.toBe(before.accessToken);
		// The first sends went out with the expired token, were refused, and were repeated with the new one.
		const oneOnOne = calls.filter((call) => call.path === PATHS.batchSend);
		const refused = oneOnOne.filter((call) => call.headerToken === before.accessToken);
		expect(refused.length).toBeGreaterThanOrEqual(1);
		expect(refused.every((call) => call.status === 400 && call.code === 'InvalidAuthentication')).toBe(true);
		expect(oneOnOne.filter((call) => call.status === 200).map((call) => call.headerToken)).toEqual([renewed, renewed]);
		// The HTTP Request node sends its items together: each refused one renews (the second gets the same token).
		expect(server.tokenFetches - fetchesBefore).toBe(refused.length);
		// Every later call, on both hosts and by the recall nodes, used the renewed token.
		const later = calls.filter((call) => call.path !== PATHS.accessToken && call.path !== PATHS.batchSend);
		expect(later.map((call) => call.headerToken ?? call.queryToken)).toEqual(later.map(() => renewed));

		expect(sent.oneOnOne).toHaveLength(2);
		expect(sent.group).toHaveLength(2);
		expect(sent.workNotifications).toHaveLength(2);
		for (const node of ['Recall one-on-one', 'Recall group', 'Recall work notification']) {
			expect(outputOf(run, node).success).toHaveLength(2);
			expect(outputOf(run, node).failed).toEqual([]);
		}
		expect([...sent.oneOnOne, ...sent.group].every((key) => server.isRecalled(key))).toBe(true);
		expect(sent.workNotifications.every((taskId) => server.isNotificationRecalled(taskId))).toBe(true);
	});

	test('DINGs: the HTTP Request node sends them (ding/send, the token in the header), the recall node recalls every returned openDingId', async () => {
		const seen = server.calls.length;
		const run = await n8n.execute('dtE2eHttpDing001');
		const calls = server.calls.slice(seen);

		const sent = outputOf(run, 'Send DING').success.map((item) => item.openDingId);
		expect(sent).toEqual([expect.any(String), expect.any(String)]);
		expect(new Set(sent).size).toBe(2);
		const token = (await stored(CREDENTIAL.id)).accessToken;
		const to = (path) => calls.filter((call) => call.path === path);
		expect(to(PATHS.dingSend).map((call) => [call.status, call.headerToken, call.queryToken, call.body.content])).toEqual([
			[200, token, undefined, 'Disk full on db-1'],
			[200, token, undefined, 'API latency over 2 s'],
		]);
		expect(outputOf(run, 'Recall DING')).toEqual({
			success: sent.map((openDingId) => ({ operation: 'recallRobotDingMessages', openDingId, robotCode: ROBOT, recalled: true, requestId: expect.any(String) })),
			failed: [],
		});
		expect(to(PATHS.dingRecall).map((call) => [call.status, call.body])).toEqual(sent.map((openDingId) => [200, { robotCode: ROBOT, openDingId }]));
		expect(sent.every((openDingId) => server.isDingRecalled(openDingId))).toBe(true);
	});

	test('a work notification alone, after its token ran out between runs: renewed before sending, stored', async () => {
		const first = outputOf(await n8n.execute('dtE2eHttpWork001'), 'Send work notification').success;
		const before = await stored(SHORT_LIVED.id);
		expect(first).toEqual([expect.objectContaining({ errcode: 0, task_id: expect.any(Number) })]);
		expect(shortLived.tokenFetches).toBe(1);
		// DingTalk's oapi host answers an expired token with HTTP 200 and errcode 88, which n8n's HTTP Request node
		// takes for success: only a token renewed before it runs out keeps such a flow working.
		await new Promise((resolve) => setTimeout(resolve, 3100));
		const seen = shortLived.calls.length;

		const second = outputOf(await n8n.execute('dtE2eHttpWork001'), 'Send work notification').success;

		const after = await stored(SHORT_LIVED.id);
		expect(after.accessToken).not.toBe(before.accessToken);
		expect(after.renewAt).toBeGreaterThan(before.renewAt);
		expect(second).toEqual([expect.objectContaining({ errcode: 0, task_id: expect.any(Number) })]);
		expect(shortLived.notifications.has(second[0].task_id)).toBe(true);
		const sends = shortLived.calls.slice(seen).filter((call) => call.path === PATHS.workNotificationSend);
		expect(sends.map((call) => [call.queryToken, call.code])).toEqual([[after.accessToken, 0]]);
		expect(shortLived.tokenFetches).toBe(2);
	});
});
