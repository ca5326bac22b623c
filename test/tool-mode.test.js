'use strict';
/**
 * The node as an AI agent's tool, on n8n-core's own tool path: an agent-like node asks the engine for
 * its tools (`getInputConnectionData`), which wraps the node's `…Tool` variant with `createNodeAsTool`
 * and `makeHandleToolInvocation`; the tool's arguments come from the `$fromAI()` calls in the node's
 * parameters. The tests assert what the agent reads.
 */
const { startServer, credentialsFor, PATHS, ROBOT, WORK } = require('./support/fixture');
const { runWorkflow, NodeTypes, NODE_TYPE } = require('./support/n8n-harness');

const AGENT_TYPE = 'test.agent';
const TOOL_NAME = 'Recall DingTalk messages';

/** Calls its one tool with the arguments in its parameter `toolCall`, as an agent does for a model's tool call. */
class TestAgent {
	constructor() {
		this.description = {
			displayName: 'Test Agent',
			name: 'agent',
			group: ['transform'],
			version: 1,
			description: 'Calls its tool the way an AI agent does',
			defaults: { name: 'Agent' },
			inputs: ['main', { type: 'ai_tool', displayName: 'Tools', required: true }],
			outputs: ['main'],
			properties: [{ displayName: 'Tool Call', name: 'toolCall', type: 'string', default: '{}' }],
		};
	}

	async execute() {
		const [tool] = await this.getInputConnectionData('ai_tool', 0);
		const answer = await tool.invoke(JSON.parse(this.getNodeParameter('toolCall', 0)));
		const parameters = Object.fromEntries(
			Object.entries(tool.schema.shape).map(([name, schema]) => [name, schema.description]),
		);
		return [[{ json: { name: tool.name, description: tool.description, parameters, answer } }]];
	}
}

/** Runs Agent ← tool once: the agent calls the tool with `toolCall`; returns what the agent read. */
async function callTool({ server, toolParameters, toolCall }) {
	const credentials = credentialsFor(server);
	const nodes = [
		{
			id: 'agent',
			name: 'Agent',
			type: AGENT_TYPE,
			typeVersion: 1,
			position: [200, 0],
			parameters: { toolCall: JSON.stringify(toolCall) },
		},
		{
			id: 'tool',
			name: TOOL_NAME,
			type: `${NODE_TYPE}Tool`,
			typeVersion: 1,
			position: [200, 200],
			parameters: toolParameters,
			credentials: { dingTalkApi: { id: 'cred-1', name: 'DingTalk test app' } },
		},
	];
	const connections = { [TOOL_NAME]: { ai_tool: [[{ node: 'Agent', type: 'ai_tool', index: 0 }]] } };
	const run = await runWorkflow({
		nodes,
		connections,
		credentials,
		startNode: 'Agent',
		nodeTypes: new NodeTypes({ [AGENT_TYPE]: new TestAgent() }),
	});
	expect(run.data.resultData.error).toBeUndefined();
	const read = run.data.resultData.runData.Agent[0].data.main[0][0].json;
	return { ...read, answer: JSON.parse(read.answer) };
}

describe('As an AI agent’s tool, through n8n-core’s tool wrapper', () => {
	test('nine keys, two of them unknown to DingTalk: the agent reads all nine outcomes', async () => {
		const server = await startServer();
		const sent = server.sendRobotMessages('dingRobotA', 7);
		const unknown = ['a-key-DingTalk-never-issued', 'another-made-up-key'];
		const keys = [sent[0], unknown[0], ...sent.slice(1, 5), unknown[1], ...sent.slice(5)];

		const read = await callTool({
			server,
			toolParameters: {
				operation: ROBOT,
				robotCode: "={{ $fromAI('robotCode', 'The robotCode of the robot that sent the messages', 'string') }}",
				processQueryKeys:
					"={{ $fromAI('processQueryKeys', 'The processQueryKey of each message to recall, comma-separated', 'string') }}",
			},
			toolCall: { robotCode: 'dingRobotA', processQueryKeys: keys.join(',') },
		});

		// What the agent is offered: the tool, named after the node, and the two arguments with their descriptions.
		expect(read.name).toBe('Recall_DingTalk_messages');
		expect(read.description).toBe(
			'Recall DingTalk messages that were sent: robot messages (one-on-one, group, private chat) by the processQueryKey that sending returned, work notifications by their task_id',
		);
		expect(read.parameters).toEqual({
			robotCode: 'The robotCode of the robot that sent the messages',
			processQueryKeys: 'The processQueryKey of each message to recall, comma-separated',
		});

		// What it reads back: every key, the recalled ones first, then those that were not, with the reason.
		expect(read.answer).toHaveLength(9);
		expect(read.answer.map((entry) => entry.processQueryKey)).toEqual([
			...keys.filter((key) => !unknown.includes(key)),
			...unknown,
		]);
		for (const entry of read.answer.slice(0, 7)) {
			expect(entry).toEqual({
				operation: ROBOT,
				processQueryKey: entry.processQueryKey,
				robotCode: 'dingRobotA',
				recalled: true,
				requestId: expect.any(String),
			});
		}
		for (const entry of read.answer.slice(7)) {
			expect(entry).toEqual({
				operation: ROBOT,
				processQueryKey: entry.processQueryKey,
				robotCode: 'dingRobotA',
				recalled: false,
				errorCode: 'invalid.processQueryKey',
				errorMessage: expect.stringContaining('processQueryKey'),
				requestId: expect.any(String),
			});
		}

		// DingTalk's side: the seven real messages are recalled.
		expect(sent.every((key) => server.isRecalled(key))).toBe(true);
		expect(server.callsTo(PATHS.batchRecall).length).toBeGreaterThanOrEqual(1);
	});

	test('work notifications: the agent reads the recalled one and the unknown task ID', async () => {
		const server = await startServer();
		const taskId = server.sendWorkNotification('836390886');

		const read = await callTool({
			server,
			toolParameters: {
				operation: WORK,
				agentId: '836390886',
				msgTaskId: "={{ $fromAI('msgTaskIds', 'The task_id of each notification to recall, comma-separated', 'string') }}",
			},
			toolCall: { msgTaskIds: `${taskId}, 123456` },
		});

		expect(read.parameters).toEqual({ msgTaskIds: 'The task_id of each notification to recall, comma-separated' });
		expect(read.answer).toEqual([
			{ operation: WORK, msgTaskId: taskId, agentId: 836390886, recalled: true, requestId: expect.any(String) },
			{
				operation: WORK,
				msgTaskId: 123456,
				agentId: 836390886,
				recalled: false,
				errorCode: '400002',
				errorMessage: expect.any(String),
				requestId: expect.any(String),
			},
		]);
		expect(server.isNotificationRecalled(taskId)).toBe(true);
	});
});
