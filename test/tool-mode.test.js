'use strict';
/**
 * The node as an AI agent's tool, on n8n-core's own tool path: an agent-like node asks the engine for
 * its tools (`getInputConnectionData`), which wraps the node's `…Tool` variant with `createNodeAsTool`
 * and `makeHandleToolInvocation`; the tool's arguments come from the `$fromAI()` calls in the node's
 * parameters. The tests assert what the agent reads.
 */
const { startServer, PATHS, ROBOT, WORK } = require('./support/fixture');
const { callTool } = require('./support/tool-agent');

/** The work-notification tool: the agent gives the task IDs. */
const WORK_TOOL = {
	operation: WORK,
	agentId: '836390886',
	msgTaskId: "={{ $fromAI('msgTaskIds', 'The task_id of each notification to recall, comma-separated', 'string') }}",
};

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
			'Recall DingTalk messages that were sent: robot messages (one-on-one, group, private chat) by the processQueryKey that sending returned, robot DING messages by their openDingId, work notifications by their task_id',
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
			toolParameters: WORK_TOOL,
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

	test('a notification whose recall answer was lost: the agent reads mayBeRecalled, not a plain failure', async () => {
		const server = await startServer();
		const taskId = server.sendWorkNotification('836390886');
		server.injectFault(PATHS.workNotificationRecall, 'lostAnswer', 1);

		const read = await callTool({
			server,
			toolParameters: { ...WORK_TOOL, options: { retryDelay: 5 } },
			toolCall: { msgTaskIds: String(taskId) },
		});

		expect(server.isNotificationRecalled(taskId)).toBe(true);
		expect(read.answer).toEqual([
			expect.objectContaining({ msgTaskId: taskId, recalled: false, errorCode: '400002', mayBeRecalled: true, errorMessage: expect.stringMatching(/may have been recalled all the same/) }),
		]);
	});

	test('the Send node as a tool: the agent reads every message sent and every recipient not reached, in one list', async () => {
		const server = await startServer();

		const read = await callTool({
			server,
			send: true,
			toolName: 'Send DingTalk messages',
			toolParameters: {
				operation: 'sendRobotOneOnOneMessage',
				robotCode: 'dingRobotA',
				userIds: "={{ $fromAI('userIds', 'The userIds of the people to tell, comma-separated', 'string') }}",
				messageType: 'text',
				text: "={{ $fromAI('text', 'What to tell them', 'string') }}",
			},
			toolCall: { userIds: 'user01,unknown-02,user03', text: 'The deploy is done' },
		});

		expect(read.parameters).toEqual({ userIds: 'The userIds of the people to tell, comma-separated', text: 'What to tell them' });
		expect(read.answer).toEqual([
			expect.objectContaining({ sent: true, processQueryKey: expect.any(String), userIds: ['user01', 'user03'] }),
			expect.objectContaining({ sent: false, errorCode: 'invalidStaffId', userIds: ['unknown-02'] }),
		]);
		expect(server.received('user01')).toBe(1);
	});
});
