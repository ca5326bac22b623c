import type { ICredentialDataDecryptedObject, IExecuteFunctions, INode, INodeExecutionData, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { baseUrlProblem } from '../../../credentials/DingTalkHosts';
import { notRecalled, toToolOutput } from '../helpers/results';
import { TEXTS } from '../../DingTalk/texts';
import type { DingTalkProcess } from '../../DingTalk/transport';
import { CREDENTIAL_TYPE, DingTalkClient } from '../../DingTalk/transport';
import type { Options } from './options';
import { optionValues } from './options';
import * as recallRobotDingMessages from './recallRobotDingMessages.operation';
import * as recallRobotGroupMessages from './recallRobotGroupMessages.operation';
import * as recallRobotOneOnOneMessages from './recallRobotOneOnOneMessages.operation';
import * as recallRobotPrivateChatMessages from './recallRobotPrivateChatMessages.operation';
import * as recallWorkNotification from './recallWorkNotification.operation';
import type { KeyParameters, KeyRequest, PoolSettings } from './recall';
import { allFailed, collectKeyRequests } from './recall';

/** An operation: how it reads the items' keys, and how it recalls them. */
interface Operation {
	keyParameters: KeyParameters;
	recall: (
		this: IExecuteFunctions,
		requests: readonly KeyRequest[],
		client: DingTalkClient,
		settings: PoolSettings,
	) => Promise<INodeExecutionData[][]>;
}

const operations = new Map<string, Operation>(
	[recallRobotOneOnOneMessages, recallRobotGroupMessages, recallRobotPrivateChatMessages, recallWorkNotification, recallRobotDingMessages].map(
		(operation) => [operation.OPERATION, operation],
	),
);

/**
 * An agent's tool is the node's `…Tool` type, which n8n derives from a `usableAsTool` node. The type
 * tells it on every path that runs a tool (the agent's own call, the MCP Server Trigger, the engine
 * running an agent's tool request) and in n8n 1.x and 2.x alike; `isToolExecution()` does not
 * (2.x only, and false when the engine runs the request).
 */
export function runsAsTool(node: INode): boolean {
	return node.type.endsWith('Tool');
}

/** Something before the first call is set up wrongly: the node's own code, the problem and its fix. */
interface SetupProblem {
	code: string;
	problem: string;
	fix: string;
}

/** What `read` gives, or the problem it threw, in the words `problem` gives it. */
async function readOr<T>(read: () => T | Promise<T>, failure: (message: string) => SetupProblem): Promise<T | SetupProblem> {
	try {
		return await read();
	} catch (error) {
		return failure((error as Error).message);
	}
}

function isProblem(value: unknown): value is SetupProblem {
	return value !== null && typeof value === 'object' && 'problem' in value && 'fix' in value;
}

/** The node's options, the credential and the client, read before any call, or what is set up wrongly. */
async function setUp(context: IExecuteFunctions, process: DingTalkProcess): Promise<{ client: DingTalkClient; settings: PoolSettings } | SetupProblem> {
	const options = await readOr(
		() => optionValues(context.getNodeParameter('options', 0, {}) as Options),
		(message) => ({ code: 'invalidOptions', problem: TEXTS.invalidOptions(message), fix: TEXTS.invalidOptionsFix }),
	);
	if (isProblem(options)) return options;
	const credentials = await readOr<ICredentialDataDecryptedObject>(
		async () => await context.getCredentials(CREDENTIAL_TYPE),
		(message) => ({ code: 'credentialUnavailable', problem: TEXTS.credentialUnreadable(message), fix: TEXTS.credentialUnreadableFix }),
	);
	if (isProblem(credentials)) return credentials;
	const badUrl = baseUrlProblem(credentials);
	if (badUrl) return badUrl;
	return { client: new DingTalkClient(context, credentials, options, process), settings: options };
}

export async function router(this: IExecuteFunctions, process: DingTalkProcess): Promise<INodeExecutionData[][]> {
	const name = this.getNodeParameter('operation', 0) as string;
	const operation = operations.get(name);
	// Only a workflow saved by a later version of the node names an operation this one does not know.
	if (!operation) throw new NodeOperationError(this.getNode(), `The operation "${name}" is not known to this version of the node`);
	const requests = collectKeyRequests(this, this.getInputData(), operation.keyParameters);
	const setup = await setUp(this, process);
	let outputs: INodeExecutionData[][];
	if (!isProblem(setup)) {
		outputs = await operation.recall.call(this, requests, setup.client, setup.settings);
	} else if (this.continueOnFail()) {
		// Nothing was sent: every key goes to Failed with the problem, none passes through to Success.
		outputs = allFailed(requests, notRecalled(setup.code, `${setup.problem} ${setup.fix}`));
	} else {
		throw new NodeApiError(this.getNode(), { code: setup.code, message: setup.problem } as JsonObject, {
			message: setup.problem,
			description: `${setup.fix} (code: ${setup.code})`,
		});
	}
	return runsAsTool(this.getNode()) ? toToolOutput(outputs) : outputs;
}
