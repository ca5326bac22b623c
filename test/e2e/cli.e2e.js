'use strict';
/**
 * The packed package in a real n8n, driven by its CLI, once per n8n version (2.41.1 and the 1.x LTS
 * line, 1.123.81): import a credential that points (environment
 * `custom`) at the DingTalk-compatible server on loopback, import workflows that use each operation,
 * run them with `n8n execute`, and check the outputs, the server's record of calls and what n8n's
 * credentials service stored.
 */
const { DingTalkServer, PATHS } = require('../support/dingtalk-server');
const { RealN8n, N8N_VERSIONS } = require('./real-n8n');

const CREDENTIAL = { id: 'dtE2eCredential1', name: 'DingTalk e2e app' };
const NODE_NAME = 'DingTalk Recall Message';

/** Manual Trigger → Edit Fields (a list) → Split Out (one item per entry) → DingTalk Recall Message. */
function workflow(id, list, recallParameters) {
	return {
		id,
		name: `DingTalk recall e2e ${id}`,
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{ id: 'a1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				id: 'a2',
				name: 'List',
				type: 'n8n-nodes-base.set',
				typeVersion: 3.4,
				position: [200, 0],
				parameters: { mode: 'raw', jsonOutput: JSON.stringify({ entries: list }), options: {} },
			},
			{
				id: 'a3',
				name: 'One item each',
				type: 'n8n-nodes-base.splitOut',
				typeVersion: 1,
				position: [400, 0],
				parameters: { fieldToSplitOut: 'entries', options: {} },
			},
			{
				id: 'a4',
				name: NODE_NAME,
				type: 'n8n-nodes-dingtalk-recall.dingTalkRecallMessage',
				typeVersion: 1,
				position: [600, 0],
				parameters: recallParameters,
				credentials: { dingTalkApi: CREDENTIAL },
			},
		],
		connections: {
			Start: { main: [[{ node: 'List', type: 'main', index: 0 }]] },
			List: { main: [[{ node: 'One item each', type: 'main', index: 0 }]] },
			'One item each': { main: [[{ node: NODE_NAME, type: 'main', index: 0 }]] },
		},
	};
}

/** The two outputs of the recall node in a run's data, as [Success, Failed]. */
function outputsOf(runData) {
	const resultData = runData.resultData ?? runData.data?.resultData;
	if (resultData.error) throw new Error(`the workflow failed: ${resultData.error.message}`);
	const [success = [], failed = []] = resultData.runData[NODE_NAME][0].data.main;
	return { success: success.map((item) => item.json), failed: failed.map((item) => item.json), raw: [success, failed] };
}

describe.each(N8N_VERSIONS)('the packed package in a real n8n %s', (version) => {
	let server;
	let n8n;

	beforeAll(async () => {
		server = await new DingTalkServer({ batchMode: 'lenient', agents: ['836390886'] }).start();
		n8n = new RealN8n({ version });
		n8n.installPackage();
		await n8n.importCredentials([{ ...CREDENTIAL, type: 'dingTalkApi', data: server.credentialData() }]);
	}, 900_000);

	afterAll(async () => {
		await server?.stop();
		n8n?.cleanUp();
	});

	test('robot one-on-one messages: 25 recalled, one recalled before on Success marked alreadyRecalled, an unknown key Failed, 2 calls', async () => {
		const keys = server.sendRobotMessages('dingRobotA', 26);
		server.robotMessages.get(keys[25]).recalled = true;
		await n8n.importWorkflow(
			workflow('dtE2eRobotFlow01', [...keys, 'never-issued-key'], {
				operation: 'recallRobotOneOnOneMessages',
				robotCode: 'dingRobotA',
				processQueryKeys: '={{ $json.entries }}',
				options: {},
			}),
		);

		// For each recall call as it reaches DingTalk (each answered 300 ms later): how many were answered already.
		const answeredBeforeEach = [];
		server.onRequest = (call) => {
			server.latencyMs = call.path === PATHS.batchRecall ? 300 : 0;
			if (call.path === PATHS.batchRecall) answeredBeforeEach.push(server.callsTo(PATHS.batchRecall).filter((earlier) => earlier !== call && earlier.status !== 0).length);
		};
		let run;
		try {
			run = await n8n.execute('dtE2eRobotFlow01');
		} finally {
			server.onRequest = undefined;
			server.latencyMs = 0;
		}
		const { success, failed, raw } = outputsOf(run);

		expect(success.map((item) => item.processQueryKey)).toEqual(keys);
		expect(success.every((item) => item.recalled === true && item.robotCode === 'dingRobotA')).toBe(true);
		expect(success.filter((item) => item.alreadyRecalled).map((item) => item.processQueryKey)).toEqual([keys[25]]);
		expect(failed).toEqual([
			expect.objectContaining({ processQueryKey: 'never-issued-key', recalled: false, errorCode: 'invalid.processQueryKey' }),
		]);
		// Paired to the Split Out item each key came from.
		expect(raw[0].map((item) => item.pairedItem.item ?? item.pairedItem[0]?.item)).toEqual([...Array(26).keys()]);
		// Two calls, in whichever order they reach DingTalk: the second went once n8n had the token the first one's request fetched, not at the first one's answer.
		expect(server.callsTo(PATHS.batchRecall).map((call) => call.body.processQueryKeys.length).sort((x, y) => y - x)).toEqual([20, 7]);
		expect(answeredBeforeEach).toEqual([0, 0]);
		// DingTalk would not recall keys[25] again: its read status, asked once, showed it gone.
		expect(server.callsTo(PATHS.readStatus).map((call) => call.statusKey)).toEqual([keys[25]]);
		expect(keys.every((key) => server.isRecalled(key))).toBe(true);

		// n8n's credentials service stored the token the node's credential fetched.
		const [stored] = (await n8n.exportCredentials()).filter((credential) => credential.id === CREDENTIAL.id);
		expect(server.tokenFetches).toBe(1);
		expect(stored.data.accessToken).toBe(server.callsTo(PATHS.batchRecall)[0].headerToken);
	});

	test('robot group and private chat messages: pooled per conversation, each item carries its openConversationId', async () => {
		const group = 'cidGroupOps+A1/xyz==';
		const privateChat = 'cidPrivate+C3/xyz==';
		const groupKeys = server.sendChatMessages('dingRobotA', group, 22);
		const privateKeys = server.sendChatMessages('dingRobotA', privateChat, 3);
		const entries = [...groupKeys.map((key) => ({ chat: group, key })), { chat: 'cidNoSuchGroup/xyz==', key: 'k-1' }];
		await n8n.importWorkflow(
			workflow('dtE2eGroupFlow01', entries, {
				operation: 'recallRobotGroupMessages',
				robotCode: 'dingRobotA',
				openConversationId: '={{ $json.chat }}',
				processQueryKeys: '={{ $json.key }}',
				options: {},
			}),
		);
		await n8n.importWorkflow(
			workflow('dtE2ePrivFlow001', [privateKeys.join(',')], {
				operation: 'recallRobotPrivateChatMessages',
				robotCode: 'dingRobotA',
				openConversationId: privateChat,
				processQueryKeys: '={{ $json.entries }}',
				options: {},
			}),
		);

		const groupRun = outputsOf(await n8n.execute('dtE2eGroupFlow01'));
		expect(groupRun.success.map((item) => [item.processQueryKey, item.openConversationId])).toEqual(groupKeys.map((key) => [key, group]));
		expect(groupRun.failed).toEqual([
			expect.objectContaining({ processQueryKey: 'k-1', openConversationId: 'cidNoSuchGroup/xyz==', errorCode: 'invalid.openConversationId' }),
		]);
		expect(server.callsTo(PATHS.groupRecall).filter((call) => call.body.openConversationId === group).map((call) => call.body.processQueryKeys.length).sort((x, y) => y - x)).toEqual([20, 2]);

		const privateRun = outputsOf(await n8n.execute('dtE2ePrivFlow001'));
		expect(privateRun.success.map((item) => [item.processQueryKey, item.openConversationId])).toEqual(privateKeys.map((key) => [key, privateChat]));
		expect(privateRun.failed).toEqual([]);
		expect([...groupKeys, ...privateKeys].every((key) => server.isRecalled(key))).toBe(true);
	});

	test('work notifications, after the token expired between two executions: renewed once, stored, all recalled', async () => {
		const [before] = (await n8n.exportCredentials()).filter((credential) => credential.id === CREDENTIAL.id);
		server.expireAllTokens();
		const taskIds = [1, 2, 3].map(() => server.sendWorkNotification('836390886'));
		await n8n.importWorkflow(
			workflow('dtE2eWorkFlow001', [...taskIds, 42], {
				operation: 'recallWorkNotification',
				agentId: '836390886',
				msgTaskId: '={{ $json.entries }}',
				options: {},
			}),
		);

		const { success, failed } = outputsOf(await n8n.execute('dtE2eWorkFlow001'));

		expect(success.map((item) => item.msgTaskId)).toEqual(taskIds);
		expect(failed).toEqual([expect.objectContaining({ msgTaskId: 42, errorCode: '400002', recalled: false })]);
		expect(server.tokenFetches).toBe(2);
		const calls = server.callsTo(PATHS.workNotificationRecall);
		expect(calls[0].queryToken).toBe(before.data.accessToken);
		expect(calls.filter((call) => call.queryToken === before.data.accessToken)).toHaveLength(1);

		const [after] = (await n8n.exportCredentials()).filter((credential) => credential.id === CREDENTIAL.id);
		expect(after.data.accessToken).not.toBe(before.data.accessToken);
		expect(after.data.accessToken).toBe(calls[calls.length - 1].queryToken);
	});

	test('robot DING messages: one call per DING, a DING given twice sent once, unknown and another robot’s DINGs Failed with DingTalk’s detail', async () => {
		const dings = server.sendDings('dingRobotA', 4);
		const othersDing = server.sendDing('dingRobotB');
		await n8n.importWorkflow(
			workflow('dtE2eDingFlow001', [...dings, dings[0], 'no-such-ding', othersDing], {
				operation: 'recallRobotDingMessages',
				robotCode: 'dingRobotA',
				openDingIds: '={{ $json.entries }}',
				options: {},
			}),
		);

		const { success, failed } = outputsOf(await n8n.execute('dtE2eDingFlow001'));

		expect(success.map((item) => [item.openDingId, item.robotCode, item.recalled])).toEqual(
			[...dings, dings[0]].map((id) => [id, 'dingRobotA', true]),
		);
		expect(failed.map((item) => [item.openDingId, item.errorCode])).toEqual([
			['no-such-ding', 'recall.ding.exception'],
			[othersDing, 'recall.ding.exception'],
		]);
		expect(failed[1].errorMessage).toMatch(/recall\.ding\.exception: ding was not sent by robot dingRobotA\)\. Check that Robot Code is the robot that sent this DING/);
		expect(server.callsTo(PATHS.dingRecall)).toHaveLength(6);
		expect(dings.every((id) => server.isDingRecalled(id))).toBe(true);
		expect(server.isDingRecalled(othersDing)).toBe(false);
	});

	test('Send → Recall: the Send node sends to 25 people and a group, the Recall node with its defaults takes every message back', async () => {
		const people = Array.from({ length: 25 }, (_, index) => `user${index}`);
		const reference = { dingTalkApi: CREDENTIAL };
		await n8n.importWorkflow({
			id: 'dtE2eSendRecall1',
			name: 'DingTalk send then recall',
			active: false,
			settings: { executionOrder: 'v1' },
			nodes: [
				{ id: 's1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
				{
					id: 's2',
					name: 'Tell people',
					type: 'n8n-nodes-dingtalk-recall.dingTalkSendMessage',
					typeVersion: 1,
					position: [200, -100],
					parameters: { operation: 'sendRobotOneOnOneMessage', robotCode: 'dingRobotA', userIds: people.join(','), messageType: 'text', text: 'Disk full on db-01', options: {} },
					credentials: reference,
				},
				{
					id: 's3',
					name: 'Tell the group',
					type: 'n8n-nodes-dingtalk-recall.dingTalkSendMessage',
					typeVersion: 1,
					position: [200, 100],
					parameters: { operation: 'sendRobotGroupMessage', robotCode: 'dingRobotA', openConversationId: 'cidGroupOps+A1/xyz==', messageType: 'markdown', title: 'Disk full', text: '**db-01**', options: {} },
					credentials: reference,
				},
				// Only the operation is set: the keys, robot and chat come from the Send node's Success items.
				{ id: 's4', name: 'Take back', type: 'n8n-nodes-dingtalk-recall.dingTalkRecallMessage', typeVersion: 1, position: [400, -100], parameters: { operation: 'recallRobotOneOnOneMessages' }, credentials: reference },
				{ id: 's5', name: 'Take back from the group', type: 'n8n-nodes-dingtalk-recall.dingTalkRecallMessage', typeVersion: 1, position: [400, 100], parameters: { operation: 'recallRobotGroupMessages' }, credentials: reference },
			],
			connections: {
				Start: { main: [[{ node: 'Tell people', type: 'main', index: 0 }, { node: 'Tell the group', type: 'main', index: 0 }]] },
				'Tell people': { main: [[{ node: 'Take back', type: 'main', index: 0 }]] },
				'Tell the group': { main: [[{ node: 'Take back from the group', type: 'main', index: 0 }]] },
			},
		});

		const run = await n8n.execute('dtE2eSendRecall1');

		const runData = (run.resultData ?? run.data?.resultData).runData;
		const [sent, notSent] = runData['Tell people'][0].data.main.map((items) => items.map((item) => item.json));
		expect(notSent).toEqual([]);
		expect(sent.map((item) => item.userIds.length)).toEqual([20, 5]);
		const [recalled, notRecalled] = runData['Take back'][0].data.main.map((items) => items.map((item) => item.json));
		const [groupRecalled] = runData['Take back from the group'][0].data.main.map((items) => items.map((item) => item.json));
		expect(notRecalled).toEqual([]);
		expect(recalled.map((item) => item.processQueryKey)).toEqual(sent.map((item) => item.processQueryKey));
		expect(groupRecalled).toEqual([expect.objectContaining({ openConversationId: 'cidGroupOps+A1/xyz==', recalled: true })]);
		expect([...recalled, ...groupRecalled].every((item) => server.isRecalled(item.processQueryKey))).toBe(true);
		for (const person of people) expect(server.received(person)).toBe(1);
	});
});
