import type { ICredentialDataDecryptedObject, IExecuteFunctions, INode, INodeExecutionData, INodeProperties, INodeTypeDescription, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { baseUrlProblem } from '../../credentials/DingTalkHosts';
import { TEXTS } from './texts';
import type { DingTalkProcess } from './transport';
import { CREDENTIAL_TYPE, DingTalkClient } from './transport';
import { MAX_WAIT_MS } from './transport/retryPolicy';

/** What both nodes' descriptions share: the credential, and a Success and a Failed output (n8n's linter wants the icon and usableAsTool in each). */
export const DINGTALK_NODE = {
	group: ['output'],
	version: 1,
	inputs: [NodeConnectionTypes.Main],
	outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
	outputNames: ['Success', 'Failed'],
	credentials: [{ name: 'dingTalkApi', required: true }],
} satisfies Partial<INodeTypeDescription>;

/** A node's Options: the calls' options both nodes share, after its own (`first`); the run reads each default from here. */
export function optionsCollection(first: INodeProperties[]): INodeProperties {
	return { displayName: 'Options', name: 'options', type: 'collection', placeholder: 'Add option', default: {}, options: [...first, ...CALL_OPTIONS] };
}

/** The operation the node's Operation parameter names. */
export function operationOf<T>(context: IExecuteFunctions, operations: ReadonlyMap<string, T>): T {
	const name = context.getNodeParameter('operation', 0) as string;
	const operation = operations.get(name);
	// Only a workflow saved by a later version of the node names an operation this one does not know.
	if (!operation) throw new NodeOperationError(context.getNode(), `The operation "${name}" is not known to this version of the node`);
	return operation;
}

/** The Options both nodes share, for their calls; each default is right for DingTalk's published limits. */
const CALL_OPTIONS: INodeProperties[] = [
	{
		displayName: 'Parallel Calls',
		name: 'concurrency',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 20 },
		default: 5,
		description: 'How many calls may be in flight at once. When DingTalk throttles, the node slows down on its own.',
	},
	{
		displayName: 'Retries',
		name: 'maxRetries',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 10 },
		default: 3,
		description: "How often to repeat a call after a server error, a timeout, a dropped connection or an answer that is not DingTalk's",
	},
	{
		displayName: 'Retry Delay (Ms)',
		name: 'retryDelay',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: MAX_WAIT_MS },
		default: 500,
		description:
			'How long to wait before the first repeat after a fault: between half and all of it (spread so that repeats do not come all at once); each further repeat waits about twice as long, at most 8 s',
	},
	{
		displayName: 'Timeout (Ms)',
		name: 'timeout',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 10000,
		description: 'How long to wait for DingTalk to answer one call',
	},
];

/** Something before the first call is set up wrongly: the node's own code, the problem and its fix. */
export type SetupProblem = { code: string; problem: string; fix: string };

export function isProblem(value: unknown): value is SetupProblem {
	return value !== null && typeof value === 'object' && 'problem' in value && 'fix' in value;
}

/** What `read` gives, or the problem it threw, in the words `failure` gives it. */
async function readOr<T>(read: () => T | Promise<T>, failure: (message: string) => SetupProblem): Promise<T | SetupProblem> {
	try {
		return await read();
	} catch (error) {
		return failure((error as Error).message);
	}
}

function clamp(value: unknown, fallback: number, min: number, max: number): number {
	const number = Number(value);
	return Number.isFinite(number) ? Math.min(max, Math.max(min, Math.floor(number))) : fallback;
}

/** The node's options as a run uses them: a number within its bounds (its default, as `collection` shows it, where it is not one), or a switch. */
export class OptionValues {
	constructor(
		private readonly given: Record<string, unknown>,
		private readonly collection: INodeProperties,
	) {}

	number(name: string, min: number, max: number): number {
		return clamp(this.given[name], this.defaultOf(name) as number, min, max);
	}

	/** An expression may give the text "false". */
	switch(name: string): boolean {
		return String(this.given[name] ?? this.defaultOf(name)).toLowerCase() !== 'false';
	}

	private defaultOf(name: string): unknown {
		return (this.collection.options as INodeProperties[]).find((option) => option.name === name)?.default;
	}
}

/** The options, the credential and the client, read before any call, or what is set up wrongly. */
export async function setUp(
	context: IExecuteFunctions,
	process: DingTalkProcess,
	collection: INodeProperties,
): Promise<{ client: DingTalkClient; options: OptionValues } | SetupProblem> {
	const options = await readOr(
		() => new OptionValues(context.getNodeParameter('options', 0, {}) as Record<string, unknown>, collection),
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
	const settings = {
		timeoutMs: options.number('timeout', 1, 600_000),
		maxRetries: options.number('maxRetries', 0, 10),
		retryDelayMs: options.number('retryDelay', 0, MAX_WAIT_MS),
	};
	return { client: new DingTalkClient(context, credentials, settings, process), options };
}

/** The error that stops the node for a setup problem, in the node's own code. */
export function setupError(context: IExecuteFunctions, setup: SetupProblem): NodeApiError {
	return new NodeApiError(context.getNode(), { code: setup.code, message: setup.problem } as JsonObject, {
		message: setup.problem,
		description: `${setup.fix} (code: ${setup.code})`,
	});
}

/** The outputs; as a tool, every item on the first (n8n hands an agent only that one), Success first. */
export function asGiven(node: INode, outputs: INodeExecutionData[][]): INodeExecutionData[][] {
	// A tool is n8n's `…Tool` type of the node: on every tool path, 1.x and 2.x alike (`isToolExecution()` is not).
	return node.type.endsWith('Tool') ? [outputs.flat()] : outputs;
}
