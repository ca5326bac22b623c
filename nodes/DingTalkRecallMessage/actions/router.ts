import type { IExecuteFunctions, INode, INodeExecutionData, JsonObject } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import { toToolOutput } from '../helpers/results';
import { CREDENTIAL_TYPE, DingTalkClient } from '../transport';
import * as recallRobotDingMessages from './recallRobotDingMessages.operation';
import * as recallRobotGroupMessages from './recallRobotGroupMessages.operation';
import * as recallRobotOneOnOneMessages from './recallRobotOneOnOneMessages.operation';
import * as recallRobotPrivateChatMessages from './recallRobotPrivateChatMessages.operation';
import * as recallWorkNotification from './recallWorkNotification.operation';

/** The defaults of the node's Options, as its description shows them. */
const DEFAULT_OPTIONS = {
	batchSize: 20,
	concurrency: 5,
	maxRetries: 3,
	retryDelay: 500,
	timeout: 10000,
	checkUnclear: true,
};

const operations = {
	[recallRobotOneOnOneMessages.OPERATION]: recallRobotOneOnOneMessages.execute,
	[recallRobotGroupMessages.OPERATION]: recallRobotGroupMessages.execute,
	[recallRobotPrivateChatMessages.OPERATION]: recallRobotPrivateChatMessages.execute,
	[recallWorkNotification.OPERATION]: recallWorkNotification.execute,
	[recallRobotDingMessages.OPERATION]: recallRobotDingMessages.execute,
};

/**
 * An agent's tool is the node's `…Tool` type, which n8n derives from a `usableAsTool` node. The type
 * tells it on every path that runs a tool (the agent's own call, the MCP Server Trigger, the engine
 * running an agent's tool request) and in n8n 1.x and 2.x alike; `isToolExecution()` does not
 * (2.x only, and false when the engine runs the request).
 */
export function runsAsTool(node: INode): boolean {
	return node.type.endsWith('Tool');
}

function clamp(value: unknown, fallback: number, min: number, max: number): number {
	const number = Number(value);
	return Number.isFinite(number) ? Math.min(max, Math.max(min, Math.floor(number))) : fallback;
}

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const operation = this.getNodeParameter('operation', 0) as keyof typeof operations;
	const options = this.getNodeParameter('options', 0, {}) as Partial<typeof DEFAULT_OPTIONS>;

	const client = new DingTalkClient(this, await this.getCredentials(CREDENTIAL_TYPE), {
		timeoutMs: clamp(options.timeout, DEFAULT_OPTIONS.timeout, 1, 600_000),
		maxRetries: clamp(options.maxRetries, DEFAULT_OPTIONS.maxRetries, 0, 10),
		maxThrottleRetries: 8,
		retryDelayMs: clamp(options.retryDelay, DEFAULT_OPTIONS.retryDelay, 0, 60_000),
	});
	if (!client.baseUrls.api || !client.baseUrls.oapi) {
		throw new NodeApiError(this.getNode(), { code: 'missingBaseUrl' } as JsonObject, {
			message: 'The DingTalk API credential has no base URL',
			description: 'The credential uses the Custom environment: fill in both API Base URL and OAPI Base URL.',
		});
	}
	const settings = {
		batchSize: clamp(options.batchSize, DEFAULT_OPTIONS.batchSize, 1, 20),
		concurrency: clamp(options.concurrency, DEFAULT_OPTIONS.concurrency, 1, 20),
		checkUnclear: options.checkUnclear ?? DEFAULT_OPTIONS.checkUnclear,
	};
	const outputs = await operations[operation].call(this, items, client, settings);
	return runsAsTool(this.getNode()) ? toToolOutput(outputs) : outputs;
}
