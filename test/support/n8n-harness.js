'use strict';
/**
 * Runs the built node inside n8n's real execution engine: n8n-workflow's `Workflow`, n8n-core's
 * `WorkflowExecute`, the real `httpRequestWithAuthentication`, and a credentials helper that behaves
 * like n8n's own (it keeps credentials as a database would, runs `preAuthentication` when the token is
 * empty or a call answered 401, stores what it returns, and applies the credential's `authenticate`).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// n8n-core keeps instance settings (an encryption key) in the user folder: use a private one, not ~/.n8n.
process.env.N8N_USER_FOLDER ??= fs.mkdtempSync(path.join(os.tmpdir(), 'dingtalk-recall-n8n-'));
process.env.N8N_ENCRYPTION_KEY ??= require('node:crypto').randomBytes(24).toString('hex');
// Errors the node raises on purpose are asserted by the tests; n8n's logger need not print them too.
process.env.N8N_LOG_LEVEL ??= 'silent';
const { Workflow, ICredentialsHelper, NodeHelpers, NodeConnectionTypes } = require('n8n-workflow');
const { WorkflowExecute, ExecutionLifecycleHooks } = require('n8n-core');

const DIST = path.resolve(__dirname, '../../dist');
const { DingTalkRecallMessage } = require(path.join(DIST, 'nodes/DingTalkRecallMessage/DingTalkRecallMessage.node.js'));
const { DingTalkSendMessage } = require(path.join(DIST, 'nodes/DingTalkSendMessage/DingTalkSendMessage.node.js'));
const { DingTalkApi } = require(path.join(DIST, 'credentials/DingTalkApi.credentials.js'));
const { thisProcess } = require(path.join(DIST, 'nodes/DingTalk/transport/process.js'));

/**
 * The n8n process the nodes run in: what its executions share (clock, tokens, pacers). n8n's own is the
 * default; tests whose timing runs on a simulated clock give one of their own (`useProcess`).
 */
let nodeProcess = thisProcess;

/** Runs the nodes and the credential of later runs on `process` (a DingTalkProcess) and its clock. */
function useProcess(process) {
	nodeProcess = process;
}

const NODE_TYPE = 'n8n-nodes-dingtalk-recall.dingTalkRecallMessage';
const SEND_NODE_TYPE = 'n8n-nodes-dingtalk-recall.dingTalkSendMessage';
const INPUT_NODE_TYPE = 'test.input';
const NODE_NAME = 'DingTalk Recall Message';
const SEND_NODE_NAME = 'DingTalk Send Message';

/** Items handed to the input node, by run id: large inputs stay out of the workflow's parameters. */
const pendingInputs = new Map();

/** Emits the run's input items, as a trigger or a Set node would. */
class TestInput {
	constructor() {
		this.description = {
			displayName: 'Test Input',
			name: 'input',
			group: ['input'],
			version: 1,
			description: 'Emits the test items',
			defaults: { name: 'Input' },
			inputs: ['main'],
			outputs: ['main'],
			properties: [{ displayName: 'Run', name: 'runId', type: 'string', default: '' }],
		};
	}

	async execute() {
		const runId = this.getNodeParameter('runId', 0);
		return [pendingInputs.get(runId).map((json) => ({ json }))];
	}
}

/**
 * The `…Tool` type n8n derives from a `usableAsTool` node, made as n8n's NodeTypes makes it
 * (packages/cli/src/node-types.ts, `convertNodeToAiTool` in load-nodes-and-credentials.ts): the same
 * node and `execute`, no inputs, one `ai_tool` output, and the Tool Description parameters.
 */
function toolVariant(nodeType) {
	const { usableAsTool: _tooled, ...base } = nodeType.description;
	const toolDescription = [
		{
			displayName: 'Tool Description',
			name: 'descriptionType',
			type: 'options',
			noDataExpression: true,
			options: [
				{ name: 'Set Automatically', value: 'auto' },
				{ name: 'Set Manually', value: 'manual' },
			],
			default: 'auto',
		},
		{
			displayName: 'Description',
			name: 'toolDescription',
			type: 'string',
			default: base.description,
			required: true,
			displayOptions: { show: { descriptionType: ['manual'] } },
		},
	];
	const description = {
		...base,
		name: `${base.name}Tool`,
		displayName: `${base.displayName} Tool`,
		inputs: [],
		outputs: [NodeConnectionTypes.AiTool],
		properties: [...toolDescription, ...base.properties],
	};
	return Object.create(nodeType, { description: { value: description } });
}

class NodeTypes {
	/** @param {Record<string, object>} [extraTypes] more node types by name, e.g. an agent for tool tests */
	constructor(extraTypes = {}) {
		this.types = {
			[NODE_TYPE]: { type: new DingTalkRecallMessage(nodeProcess), sourcePath: '' },
			[SEND_NODE_TYPE]: { type: new DingTalkSendMessage(nodeProcess), sourcePath: '' },
			[INPUT_NODE_TYPE]: { type: new TestInput(), sourcePath: '' },
			...Object.fromEntries(Object.entries(extraTypes).map(([name, type]) => [name, { type, sourcePath: '' }])),
		};
	}

	getByName(name) {
		return this.typeOf(name);
	}

	getByNameAndVersion(name, version) {
		return NodeHelpers.getVersionedNodeType(this.typeOf(name), version);
	}

	/** As n8n does: `<type>Tool` of a `usableAsTool` node is its tool variant. */
	typeOf(name) {
		if (!this.types[name] && name.endsWith('Tool')) {
			const base = this.types[name.slice(0, -'Tool'.length)]?.type;
			if (base?.description.usableAsTool) this.types[name] = { type: toolVariant(base), sourcePath: '' };
		}
		return this.types[name].type;
	}

	getKnownTypes() {
		return {};
	}
}

class CredentialsHelper extends ICredentialsHelper {
	constructor() {
		super();
		this.credentialType = new DingTalkApi(nodeProcess.clock);
		/** id → { name, type, data }: what n8n keeps in its database. */
		this.store = new Map();
		this.preAuthenticationRuns = 0;
		this.updates = 0;
	}

	add(id, data, name = 'DingTalk test app') {
		this.store.set(id, { name, type: 'dingTalkApi', data: { ...data } });
		return { id, name };
	}

	dataOf(id) {
		return { ...this.store.get(id).data };
	}

	getParentTypes() {
		return [];
	}

	isCredentialUsableByNode() {
		return true;
	}

	getCredentialsProperties() {
		return this.credentialType.properties;
	}

	async authenticate(credentials, typeName, requestOptions) {
		return await this.credentialType.authenticate(credentials, requestOptions);
	}

	/** As n8n's CredentialsHelper: runs when the expirable token is empty or the call was refused with 401. */
	async preAuthentication(helpers, credentials, typeName, node, credentialsExpired) {
		const expirable = this.credentialType.properties.find(
			(property) => property.type === 'hidden' && property.typeOptions?.expirable === true,
		);
		if (credentials[expirable.name] !== '' && !credentialsExpired) return undefined;
		const output = await this.runPreAuthentication(helpers, credentials, typeName);
		if (output?.[expirable.name] === undefined) return undefined;
		if (node.credentials) {
			await this.updateCredentials(node.credentials[typeName], typeName, Object.assign(credentials, output));
		}
		return Object.assign(credentials, output);
	}

	async runPreAuthentication(helpers, credentials) {
		this.preAuthenticationRuns++;
		return await this.credentialType.preAuthentication.call(helpers, credentials);
	}

	async getCredentials(nodeCredentials) {
		return this.store.get(nodeCredentials.id);
	}

	/** Like a database read: each call returns what is stored now. */
	async getDecrypted(additionalData, nodeCredentials) {
		const stored = this.store.get(nodeCredentials.id);
		if (!stored) throw new Error(`Credential ${nodeCredentials.id} does not exist`);
		return { ...stored.data };
	}

	async updateCredentials(nodeCredentials, type, data) {
		this.updates++;
		this.store.get(nodeCredentials.id).data = { ...data };
	}

	async updateCredentialsOauthTokenData() {}
}

let runCounter = 0;

/** Runs `work` (a workflow whose Test Input node has `runId`) with `items` as that node's output. */
async function runWithInput(runId, items, work) {
	pendingInputs.set(runId, items);
	try {
		return await work();
	} finally {
		pendingInputs.delete(runId);
	}
}

/**
 * Runs Input → DingTalk Recall Message (or, with `send`, DingTalk Send Message) once and returns what each output received.
 * @param {object} options
 * @param {object[]} options.items the input items' JSON
 * @param {object} options.parameters the node's parameters (operation, robotCode, processQueryKeys, options …)
 * @param {CredentialsHelper} options.credentials a helper holding the credential `credentialId`
 * @param {string} [options.credentialId]
 * @param {boolean} [options.continueOnFail]
 * @param {boolean} [options.send] run the Send node instead of the Recall node
 */
async function runNode({ items, parameters, credentials, credentialId = 'cred-1', continueOnFail = false, onStart, send = false }) {
	const runId = `run-${++runCounter}`;
	const name = send ? SEND_NODE_NAME : NODE_NAME;
	pendingInputs.set(runId, items);
	const stored = credentials.store.get(credentialId);
	const nodes = [
		{ id: 'input', name: 'Input', type: INPUT_NODE_TYPE, typeVersion: 1, position: [0, 0], parameters: { runId } },
		{
			id: 'dingtalk',
			name,
			type: send ? SEND_NODE_TYPE : NODE_TYPE,
			typeVersion: 1,
			position: [200, 0],
			parameters,
			credentials: { dingTalkApi: { id: credentialId, name: stored?.name ?? 'missing' } },
			...(continueOnFail ? { onError: 'continueRegularOutput' } : {}),
		},
	];
	const connections = { Input: { main: [[{ node: name, type: 'main', index: 0 }]] } };
	try {
		const run = await runWorkflow({ nodes, connections, credentials, startNode: 'Input', executionId: runId, onStart });
		const taskData = run.data.resultData.runData[name]?.[0];
		const outputs = taskData?.data?.main ?? [];
		return {
			run,
			error: run.data.resultData.error,
			success: outputs[0] ?? [],
			failed: outputs[1] ?? [],
		};
	} finally {
		pendingInputs.delete(runId);
	}
}

/**
 * Runs a workflow in n8n's engine from `startNode` and returns n8n's record of the run.
 * @param {object} options
 * @param {object[]} options.nodes
 * @param {object} options.connections
 * @param {CredentialsHelper} options.credentials
 * @param {string} options.startNode the name of the node the run starts at
 * @param {NodeTypes} [options.nodeTypes]
 * @param {string} [options.executionId]
 * @param {(stop: () => void) => void} [options.onStart] receives what stops the execution, as n8n's Stop button does
 */
async function runWorkflow({ nodes, connections, credentials, startNode, nodeTypes = new NodeTypes(), executionId = `run-${++runCounter}`, onStart }) {
	const workflow = new Workflow({ id: 'wf-test', name: 'DingTalk recall test', nodes, connections, active: false, nodeTypes, settings: {} });

	const workflowData = { id: 'wf-test', name: 'DingTalk recall test', nodes, connections, active: false, settings: {} };
	const hooks = new ExecutionLifecycleHooks('manual', executionId, workflowData);
	let workflowFinished;
	const finished = new Promise((resolve) => (workflowFinished = resolve));
	hooks.addHandler('workflowExecuteAfter', (run) => workflowFinished(run));

	const additionalData = {
		credentialsHelper: credentials,
		hooks,
		executeWorkflow: async () => {
			throw new Error('not used');
		},
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://127.0.0.1/rest',
		instanceBaseUrl: 'http://127.0.0.1/',
		formBaseUrl: 'http://127.0.0.1/formBaseUrl',
		formWaitingBaseUrl: 'http://127.0.0.1/formWaitingBaseUrl',
		formTestBaseUrl: 'http://127.0.0.1/formTestBaseUrl',
		webhookBaseUrl: 'http://127.0.0.1/webhookBaseUrl',
		webhookWaitingBaseUrl: 'http://127.0.0.1/webhookWaitingBaseUrl',
		webhookTestBaseUrl: 'http://127.0.0.1/webhookTestBaseUrl',
		mcpBaseUrl: 'http://127.0.0.1/mcpBaseUrl',
		mcpTestBaseUrl: 'http://127.0.0.1/mcpTestBaseUrl',
		variables: {},
		logAiEvent: () => {},
		startRunnerTask: async () => {
			throw new Error('not used');
		},
	};

	const execution = new WorkflowExecute(additionalData, 'manual');
	const running = execution.run({ workflow, startNode: workflow.getNode(startNode) });
	onStart?.(() => running.cancel());
	await running;
	return await finished;
}

module.exports = { runNode, runWorkflow, runWithInput, useProcess, NodeTypes, CredentialsHelper, NODE_TYPE, NODE_NAME, SEND_NODE_TYPE, SEND_NODE_NAME };
