import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { parseProcessQueryKeys, parseRobotCode } from '../helpers/inputs';
import type { RecallOutcome } from '../helpers/results';
import { outcomeOfFailedAnswer, outcomesOfBatchAnswer } from '../helpers/results';
import type { DingTalkClient } from '../transport';
import type { PoolSettings } from './recall';
import { collectKeyRequests, ConfigurationError, recallPooled } from './recall';

export const OPERATION = 'recallRobotOneOnOneMessages';

export const BATCH_RECALL_PATH = '/v1.0/robot/otoMessages/batchRecall';

const showForOperation = { show: { operation: [OPERATION] } };

export const description: INodeProperties[] = [
	{
		displayName: 'Robot Code',
		name: 'robotCode',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'dingxxxxxxxxxxxxxxxx',
		description:
			'The code of the robot that sent the messages (developer console → your app → Robot → RobotCode)',
		displayOptions: showForOperation,
	},
	{
		displayName: 'Process Query Keys',
		name: 'processQueryKeys',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. mqCgUC_IY0buCeHq==',
		description:
			'The ID DingTalk gave the message when the robot sent it: the processQueryKey in the answer of the robot batchSend call (oToMessages/batchSend). One key, a comma-separated list, or an expression that gives an array of keys.',
		hint: 'Keys of all input items that share a Robot Code are recalled together, 20 per call',
		displayOptions: showForOperation,
	},
];

/**
 * Recalls a batch of keys of one robot. When DingTalk refuses the whole call because of some of its
 * keys, the batch is split in halves until the bad keys stand alone, so every other key is still recalled.
 */
async function recallBatch(
	client: DingTalkClient,
	robotCode: string,
	keys: string[],
): Promise<Map<string, RecallOutcome>> {
	const answer = await client.call({
		host: 'api',
		path: BATCH_RECALL_PATH,
		json: { robotCode, processQueryKeys: keys },
	});
	if (answer.kind === 'configuration') throw new ConfigurationError(answer);

	const perKey = answer.body ? outcomesOfBatchAnswer(keys, answer.body, answer.requestId) : undefined;
	if (perKey && (answer.kind === 'ok' || answer.kind === 'refused')) return perKey;

	if (answer.kind === 'refused' && keys.length > 1) {
		const half = Math.ceil(keys.length / 2);
		const first = await recallBatch(client, robotCode, keys.slice(0, half));
		const second = await recallBatch(client, robotCode, keys.slice(half));
		return new Map([...first, ...second]);
	}

	const outcome =
		answer.kind === 'ok'
			? outcomeOfFailedAnswer({ ...answer, code: 'notReported' })
			: outcomeOfFailedAnswer(answer);
	return new Map(keys.map((key) => [key, outcome]));
}

export async function execute(
	this: IExecuteFunctions,
	items: INodeExecutionData[],
	client: DingTalkClient,
	settings: PoolSettings,
): Promise<INodeExecutionData[][]> {
	const requests = collectKeyRequests(this, items, {
		operation: OPERATION,
		poolParameter: 'robotCode',
		valueParameter: 'processQueryKeys',
		poolField: 'robotCode',
		valueField: 'processQueryKey',
		parsePool: parseRobotCode,
		parseValues: parseProcessQueryKeys,
		emptyProblem: 'processQueryKeys is empty: give at least one processQueryKey',
		display: (value) => value,
	});
	return await recallPooled(this, requests, settings, async (robotCode, keys) =>
		await recallBatch(client, robotCode, keys),
	);
}
