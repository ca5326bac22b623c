import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { parseOpenConversationId, parseProcessQueryKeys, parseRobotCode } from '../helpers/inputs';
import type { RecallOutcome } from '../helpers/results';
import { checkedNotRecalled, confirmedRecalled, outcomeOfFailedAnswer, outcomesOfBatchAnswer } from '../helpers/results';
import type { DingTalkCall, DingTalkClient } from '../transport';
import { isConversationCode } from '../transport/errors';
import type { PoolParameter, PoolSettings } from './recall';
import { collectKeyRequests, ConfigurationError, recallPooled } from './recall';

/** What sets one of DingTalk's robot recall APIs apart: its path, whether it works per chat, its read status. */
export interface RobotRecallApi {
	operation: string;
	recallPath: string;
	/** Group and private-chat recalls name the chat: keys are pooled per robot and chat. */
	inConversation: boolean;
	/** DingTalk's read status of one message, where it has one: `sendStatus: RECALLED` confirms a recall. */
	readStatus?: (robotCode: string, openConversationId: string, processQueryKey: string) => DingTalkCall;
}

/** The per-item parameters of a robot recall operation; `sentBy` names the send call that returns the keys. */
export function robotParameters(api: RobotRecallApi, sentBy: string): INodeProperties[] {
	const displayOptions = { show: { operation: [api.operation] } };
	const sharedBy = api.inConversation ? 'a Robot Code and an Open Conversation ID' : 'a Robot Code';
	const conversation: INodeProperties[] = api.inConversation
		? [
				{
					displayName: 'Open Conversation ID',
					name: 'openConversationId',
					type: 'string',
					required: true,
					default: '',
					placeholder: 'e.g. cidXXXXXXXXXXXXXXXX==',
					description:
						'The openConversationId of the chat the messages were sent to: the same value the send call was given (an expression works: items may name different chats)',
					displayOptions,
				},
			]
		: [];
	return [
		{
			displayName: 'Robot Code',
			name: 'robotCode',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'dingxxxxxxxxxxxxxxxx',
			description:
				'The code of the robot that sent the messages (developer console → your app → Robot → RobotCode)',
			displayOptions,
		},
		...conversation,
		{
			displayName: 'Process Query Keys',
			name: 'processQueryKeys',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'e.g. Kna29Ra5pdJznx1ghavbumkQKwDzgfxZLapw55G7x0Q=',
			description: `The ID DingTalk gave the message when the robot sent it: the processQueryKey in the answer of the send call (${sentBy}). One key, a comma-separated list, or an expression that gives an array of keys.`,
			hint: `Keys of all input items that share ${sharedBy} are recalled together, 20 per call`,
			displayOptions,
		},
	];
}

function poolParameters(api: RobotRecallApi): PoolParameter[] {
	const robotCode = { name: 'robotCode', field: 'robotCode', parse: parseRobotCode };
	if (!api.inConversation) return [robotCode];
	return [robotCode, { name: 'openConversationId', field: 'openConversationId', parse: parseOpenConversationId }];
}

/** One robot (and, for chats, one conversation): where a batch of keys goes. */
interface RobotPool {
	robotCode: string;
	openConversationId: string;
}

function recallBody(api: RobotRecallApi, pool: RobotPool, keys: string[]): IDataObject {
	return api.inConversation
		? { openConversationId: pool.openConversationId, robotCode: pool.robotCode, processQueryKeys: keys }
		: { robotCode: pool.robotCode, processQueryKeys: keys };
}

/**
 * One recall call for `keys`, its outcomes put in `found`. When DingTalk refuses the whole call because
 * of some of its keys, the batch is split in halves until the bad keys stand alone, so every other key
 * is still recalled. A refusal of the whole chat is not split: no key of that chat can be recalled.
 */
async function recallKeys(
	client: DingTalkClient,
	api: RobotRecallApi,
	pool: RobotPool,
	keys: string[],
	found: Map<string, RecallOutcome>,
): Promise<void> {
	const answer = await client.call({ host: 'api', path: api.recallPath, json: recallBody(api, pool, keys) });
	// What `found` holds by now (keys recalled while isolating a bad one) travels with the error.
	if (answer.kind === 'configuration') throw new ConfigurationError(answer, found);

	const perKey = answer.body ? outcomesOfBatchAnswer(keys, answer.body, answer.requestId) : undefined;
	if (perKey && (answer.kind === 'ok' || answer.kind === 'refused')) {
		for (const [key, outcome] of perKey) found.set(key, outcome);
		return;
	}

	if (answer.kind === 'refused' && keys.length > 1 && !isConversationCode(answer.code)) {
		const half = Math.ceil(keys.length / 2);
		await recallKeys(client, api, pool, keys.slice(0, half), found);
		await recallKeys(client, api, pool, keys.slice(half), found);
		return;
	}

	const outcome =
		answer.kind === 'ok'
			? outcomeOfFailedAnswer({ ...answer, code: 'notReported' })
			: outcomeOfFailedAnswer(answer);
	for (const key of keys) found.set(key, outcome);
}

/** Keys on which DingTalk said it failed internally (`SYSTEM_ERROR` …) are repeated, within the Retries option. */
async function recallWithRepeats(
	client: DingTalkClient,
	api: RobotRecallApi,
	pool: RobotPool,
	keys: string[],
): Promise<Map<string, RecallOutcome>> {
	const outcomes = new Map<string, RecallOutcome>();
	await recallKeys(client, api, pool, keys, outcomes);
	for (let attempt = 1; attempt <= client.maxRetries; attempt++) {
		const again = keys.filter((key) => outcomes.get(key)?.passingFault);
		if (!again.length) break;
		await client.waitBeforeRepeat(attempt);
		await recallKeys(client, api, pool, again, outcomes);
	}
	return outcomes;
}

/**
 * Asks DingTalk's read status, once, for each key whose outcome is still unclear (a lost answer, no word
 * on the key, an unexplained reason): `RECALLED` moves it to Success. Any other answer, or none, keeps
 * the key's outcome as it was. Keys just recalled or refused with a documented key code are never asked.
 */
async function confirmUnclear(
	client: DingTalkClient,
	api: RobotRecallApi,
	pool: RobotPool,
	outcomes: Map<string, RecallOutcome>,
): Promise<void> {
	if (!api.readStatus) return;
	for (const [key, outcome] of outcomes) {
		if (outcome.recalled || !outcome.unclear) continue;
		const answer = await client.call(api.readStatus(pool.robotCode, pool.openConversationId, key), { once: true });
		if (answer.kind === 'ok' && String(answer.body?.sendStatus).toUpperCase() === 'RECALLED') {
			outcomes.set(key, confirmedRecalled(answer.requestId));
		} else {
			outcomes.set(key, checkedNotRecalled(outcome, answer.kind === 'ok'));
		}
	}
}

/**
 * The `execute` of a robot recall operation, the same machinery for every robot API: pools every input
 * item's keys per robot (and chat) and recalls them 20 per call.
 */
export function robotRecallOperation(api: RobotRecallApi) {
	return async function execute(
		this: IExecuteFunctions,
		items: INodeExecutionData[],
		client: DingTalkClient,
		settings: PoolSettings,
	): Promise<INodeExecutionData[][]> {
		const requests = collectKeyRequests(this, items, {
			operation: api.operation,
			pool: poolParameters(api),
			valueParameter: 'processQueryKeys',
			valueField: 'processQueryKey',
			parseValues: parseProcessQueryKeys,
			emptyProblem: 'processQueryKeys is empty: give at least one processQueryKey',
			display: (value) => value,
		});
		// A chat DingTalk refused as a whole is not asked again for the pool's other batches.
		const refusedChats = new Map<string, RecallOutcome>();
		return await recallPooled(this, requests, settings, async ([robotCode, openConversationId = ''], keys) => {
			const pool = { robotCode, openConversationId };
			const poolName = JSON.stringify(pool);
			const refused = refusedChats.get(poolName);
			if (refused) return new Map(keys.map((key) => [key, refused]));

			const outcomes = await recallWithRepeats(client, api, pool, keys);
			const chatRefusal = [...outcomes.values()].find((outcome) => isConversationCode(outcome.errorCode ?? ''));
			if (chatRefusal) refusedChats.set(poolName, chatRefusal);
			if (settings.checkUnclear) await confirmUnclear(client, api, pool, outcomes);
			return outcomes;
		});
	};
}
