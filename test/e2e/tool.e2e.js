'use strict';
/**
 * The packed package as an AI agent's tool in a real n8n 2.41.1, reached the way clients outside n8n
 * reach n8n's tools: an active workflow with n8n's MCP Server Trigger, the node's tool variants
 * connected to it, and an MCP client (`@modelcontextprotocol/sdk`) over Streamable HTTP on loopback.
 * The MCP Server Trigger calls a tool through the same n8n-core wrapper an AI Agent uses, so what the
 * client reads is what an agent reads; no model is needed.
 */
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { DingTalkServer, PATHS } = require('../support/dingtalk-server');
const { RealN8n } = require('./real-n8n');

const CREDENTIAL = { id: 'dtE2eToolCred001', name: 'DingTalk e2e app' };
const WORKFLOW_ID = 'dtE2eMcpTools001';
const MCP_PATH = 'dingtalk-recall';
const ROBOT_TOOL = 'Recall robot messages';
const WORK_TOOL = 'Recall work notifications';
const SEND_TOOL = 'Send DingTalk messages';

/** MCP Server Trigger ← three tools: each node's tool variant once per operation, arguments from `$fromAI()`. */
function mcpWorkflow() {
	const tool = (id, name, parameters, node = 'dingTalkRecallMessage') => ({
		id,
		name,
		type: `n8n-nodes-dingtalk-recall.${node}Tool`,
		typeVersion: 1,
		position: [0, 200],
		parameters: { ...parameters, options: {} },
		credentials: { dingTalkApi: CREDENTIAL },
	});
	const toTrigger = { ai_tool: [[{ node: 'MCP Server Trigger', type: 'ai_tool', index: 0 }]] };
	return {
		id: WORKFLOW_ID,
		name: 'DingTalk recall over MCP',
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: 'm1',
				name: 'MCP Server Trigger',
				type: '@n8n/n8n-nodes-langchain.mcpTrigger',
				typeVersion: 2,
				position: [0, 0],
				webhookId: '6f1c2a51-5d0e-4c7e-9a55-3f2f8c1d0b7a',
				parameters: { path: MCP_PATH },
			},
			tool('m2', ROBOT_TOOL, {
				operation: 'recallRobotOneOnOneMessages',
				robotCode: "={{ $fromAI('robotCode', 'The robotCode of the robot that sent the messages', 'string') }}",
				processQueryKeys:
					"={{ $fromAI('processQueryKeys', 'The processQueryKey of each message to recall (robot batchSend returned it), comma-separated', 'string') }}",
			}),
			tool('m3', WORK_TOOL, {
				operation: 'recallWorkNotification',
				agentId: '836390886',
				msgTaskId:
					"={{ $fromAI('taskIds', 'The task_id of each work notification to recall (asyncsend_v2 returned it), comma-separated', 'string') }}",
			}),
			tool(
				'm4',
				SEND_TOOL,
				{
					operation: 'sendRobotOneOnOneMessage',
					robotCode: 'dingRobotA',
					userIds: "={{ $fromAI('userIds', 'The userIds of the people to tell, comma-separated', 'string') }}",
					messageType: 'text',
					text: "={{ $fromAI('text', 'What to tell them', 'string') }}",
				},
				'dingTalkSendMessage',
			),
		],
		connections: { [ROBOT_TOOL]: toTrigger, [WORK_TOOL]: toTrigger, [SEND_TOOL]: toTrigger },
	};
}

/** An MCP client connected to the trigger; n8n registers the endpoint shortly after it reports ready. */
async function connectWhenActive(url) {
	const deadline = Date.now() + 60_000;
	for (;;) {
		const client = new Client({ name: 'dingtalk-recall-e2e', version: '1.0.0' });
		try {
			await client.connect(new StreamableHTTPClientTransport(url));
			return client;
		} catch (error) {
			if (Date.now() > deadline || !/is not registered/.test(error.message)) throw error;
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
	}
}

/** The JSON an MCP tool call answered with (n8n sends the tool's answer as one text part). */
function answerOf(result) {
	expect(result.isError).toBeFalsy();
	expect(result.content).toHaveLength(1);
	return JSON.parse(result.content[0].text);
}

describe('the packed package as a tool of n8n’s MCP Server Trigger in a real n8n 2.41.1', () => {
	let server;
	let n8n;
	let client;

	beforeAll(async () => {
		server = await new DingTalkServer({ agents: ['836390886'] }).start();
		n8n = new RealN8n();
		n8n.installPackage();
		await n8n.importCredentials([{ ...CREDENTIAL, type: 'dingTalkApi', data: server.credentialData() }]);
		await n8n.importWorkflow(mcpWorkflow());
		// n8n activates published workflows as it starts: the MCP endpoint is then live.
		await n8n.cli(['publish:workflow', `--id=${WORKFLOW_ID}`]);
		await n8n.start();
		client = await connectWhenActive(new URL(`${n8n.baseUrl}/mcp/${MCP_PATH}`));
	}, 900_000);

	afterAll(async () => {
		await client?.close();
		await n8n?.stop();
		await server?.stop();
		n8n?.cleanUp();
	});

	test('the client lists the three tools, each with what to give it', async () => {
		const { tools } = await client.listTools();
		const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));

		expect(Object.keys(byName).sort()).toEqual(['Recall_robot_messages', 'Recall_work_notifications', 'Send_DingTalk_messages']);
		for (const tool of [byName.Recall_robot_messages, byName.Recall_work_notifications]) {
			expect(tool.description).toBe(
				'Recall DingTalk messages that were sent: robot messages (one-on-one, group, private chat) by the processQueryKey that sending returned, robot DING messages by their openDingId, work notifications by their task_id',
			);
		}
		const robot = byName.Recall_robot_messages.inputSchema;
		expect(robot.required.sort()).toEqual(['processQueryKeys', 'robotCode']);
		expect(robot.properties.processQueryKeys).toMatchObject({ type: 'string', description: expect.stringContaining('batchSend') });
		const work = byName.Recall_work_notifications.inputSchema;
		expect(work.properties.taskIds).toMatchObject({ type: 'string', description: expect.stringContaining('asyncsend_v2') });
		const send = byName.Send_DingTalk_messages.inputSchema;
		expect(send.required.sort()).toEqual(['text', 'userIds']);
		expect(send.properties.userIds).toMatchObject({ type: 'string', description: 'The userIds of the people to tell, comma-separated' });
	});

	test('nine keys, two unknown to DingTalk: the client reads all nine outcomes, and the seven messages are recalled', async () => {
		const sent = server.sendRobotMessages('dingRobotA', 7);
		const unknown = ['a-key-DingTalk-never-issued', 'another-made-up-key'];
		const keys = [sent[0], unknown[0], ...sent.slice(1, 5), unknown[1], ...sent.slice(5)];

		const answer = answerOf(
			await client.callTool({ name: 'Recall_robot_messages', arguments: { robotCode: 'dingRobotA', processQueryKeys: keys.join(', ') } }),
		);

		// One list with every key: the recalled ones first, then those that were not, with DingTalk's reason.
		const item = (processQueryKey, outcome) => ({
			operation: 'recallRobotOneOnOneMessages',
			processQueryKey,
			robotCode: 'dingRobotA',
			...outcome,
			requestId: expect.any(String),
		});
		expect(answer).toEqual([
			...sent.map((key) => item(key, { recalled: true })),
			...unknown.map((key) =>
				item(key, { recalled: false, errorCode: 'invalid.processQueryKey', errorMessage: expect.stringContaining('processQueryKey') }),
			),
		]);
		// DingTalk's side: the seven real messages are recalled, and every key was asked for.
		expect(sent.every((key) => server.isRecalled(key))).toBe(true);
		const recalledInCalls = server.callsTo(PATHS.batchRecall).flatMap((call) => call.body.processQueryKeys);
		expect(new Set(recalledInCalls)).toEqual(new Set(keys));
	});

	test('work notifications: the client reads the recalled one and the unknown task ID', async () => {
		const taskId = server.sendWorkNotification('836390886');

		const answer = answerOf(await client.callTool({ name: 'Recall_work_notifications', arguments: { taskIds: `${taskId},123456` } }));

		const item = (msgTaskId, outcome) => ({
			operation: 'recallWorkNotification',
			msgTaskId,
			agentId: 836390886,
			...outcome,
			requestId: expect.any(String),
		});
		expect(answer).toEqual([
			item(taskId, { recalled: true }),
			item(123456, { recalled: false, errorCode: '400002', errorMessage: expect.any(String) }),
		]);
		expect(server.isNotificationRecalled(taskId)).toBe(true);
	});
	test('the client sends to three people, one unknown to DingTalk, reads both outcomes, and recalls the message by the key it read', async () => {
		const answer = answerOf(
			await client.callTool({ name: 'Send_DingTalk_messages', arguments: { userIds: 'user01,unknown-02,user03', text: 'The deploy is done' } }),
		);

		expect(answer).toEqual([
			expect.objectContaining({ operation: 'sendRobotOneOnOneMessage', robotCode: 'dingRobotA', sent: true, processQueryKey: expect.any(String), userIds: ['user01', 'user03'] }),
			expect.objectContaining({ sent: false, errorCode: 'invalidStaffId', userIds: ['unknown-02'] }),
		]);
		expect([server.received('user01'), server.received('user03'), server.received('unknown-02')]).toEqual([1, 1, 0]);

		const { processQueryKey } = answer[0];
		const recall = answerOf(await client.callTool({ name: 'Recall_robot_messages', arguments: { robotCode: 'dingRobotA', processQueryKeys: processQueryKey } }));
		expect(recall).toEqual([expect.objectContaining({ processQueryKey, recalled: true })]);
		expect(server.isRecalled(processQueryKey)).toBe(true);
	});
});
