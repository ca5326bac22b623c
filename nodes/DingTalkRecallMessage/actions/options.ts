import type { INodeProperties } from 'n8n-workflow';

import { MAX_WAIT_MS } from '../../DingTalk/transport/retryPolicy';

export type Options = Partial<Record<'batchSize' | 'concurrency' | 'maxRetries' | 'retryDelay' | 'timeout' | 'checkUnclear', unknown>>;

const ROBOT_BATCH_OPERATIONS = ['recallRobotOneOnOneMessages', 'recallRobotGroupMessages', 'recallRobotPrivateChatMessages'];

/** The operations whose read status can settle an unclear outcome. */
const READ_STATUS_OPERATIONS = ['recallRobotOneOnOneMessages', 'recallRobotGroupMessages', 'recallRobotPrivateChatMessages'];

/** The node's Options; each default is right for DingTalk's published limits, and the run reads it from here. */
export const optionsCollection: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add option',
	default: {},
	options: [
		{
			displayName: 'Batch Size',
			name: 'batchSize',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 20 },
			default: 20,
			description: 'How many keys to recall per call. DingTalk accepts at most 20.',
			displayOptions: { show: { '/operation': ROBOT_BATCH_OPERATIONS } },
		},
		{
			displayName: 'Check Unclear Outcomes',
			name: 'checkUnclear',
			type: 'boolean',
			default: true,
			description:
				"Whether to ask DingTalk's read status, once, for each message whose recall stayed unclear (a lost answer, no word on the key, a reason DingTalk does not document). A message it shows recalled goes to Success with alreadyRecalled: true.",
			displayOptions: { show: { '/operation': READ_STATUS_OPERATIONS } },
		},
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
	],
};

function clamp(value: unknown, fallback: number, min: number, max: number): number {
	const number = Number(value);
	return Number.isFinite(number) ? Math.min(max, Math.max(min, Math.floor(number))) : fallback;
}

/** An option's default, as the description shows it. */
function defaultOf(name: keyof Options): number | boolean {
	return (optionsCollection.options as INodeProperties[]).find((option) => option.name === name)!.default as number | boolean;
}

/** The options as the run uses them: each within its bounds, its default where it is not a number. */
export function optionValues(options: Options) {
	const number = (name: keyof Options, min: number, max: number) => clamp(options[name], defaultOf(name) as number, min, max);
	return {
		timeoutMs: number('timeout', 1, 600_000),
		maxRetries: number('maxRetries', 0, 10),
		retryDelayMs: number('retryDelay', 0, MAX_WAIT_MS),
		batchSize: number('batchSize', 1, 20),
		concurrency: number('concurrency', 1, 20),
		// An expression may give the text "false".
		checkUnclear: String(options.checkUnclear ?? defaultOf('checkUnclear')).toLowerCase() !== 'false',
	};
}
