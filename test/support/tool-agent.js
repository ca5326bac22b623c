'use strict';
/**
 * An agent-like node for tests of the node as an AI agent's tool, on n8n-core's own tool path: it asks
 * the engine for its tools (`getInputConnectionData`), which wraps the node's `…Tool` variant with
 * `createNodeAsTool` and `makeHandleToolInvocation`; the tool's arguments come from the `$fromAI()`
 * calls in the node's parameters.
 */
const { credentialsFor } = require('./fixture');
const { runWorkflow, NodeTypes, NODE_TYPE, SEND_NODE_TYPE } = require('./n8n-harness');

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

/** Runs Agent ← tool once (the Recall node, or with `send` the Send node): the agent calls it with `toolCall`; returns what the agent read. */
async function callTool({ server, toolParameters, toolCall, send = false, toolName = TOOL_NAME }) {
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
			name: toolName,
			type: `${send ? SEND_NODE_TYPE : NODE_TYPE}Tool`,
			typeVersion: 1,
			position: [200, 200],
			parameters: toolParameters,
			credentials: { dingTalkApi: { id: 'cred-1', name: 'DingTalk test app' } },
		},
	];
	const connections = { [toolName]: { ai_tool: [[{ node: 'Agent', type: 'ai_tool', index: 0 }]] } };
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

module.exports = { callTool, TOOL_NAME };
