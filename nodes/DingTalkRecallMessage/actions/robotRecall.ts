import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { parseOpenConversationId, parseProcessQueryKeys, parseRobotCode } from '../helpers/inputs';
import type { BatchLedger, RecallOutcome } from '../helpers/results';
import { checkedNotRecalled, confirmedRecalled, outcomeOfFailedAnswer, outcomesOfBatchAnswer } from '../helpers/results';
import type { DingTalkCall, DingTalkClient } from '../transport';
import type { Answer } from '../transport/errors';
import { isConversationCode, isKeyCode, isOverMaxCode } from '../transport/errors';
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

/** The robot that sent what `operation` recalls (`what`: messages, DING messages); only that robot can recall it. */
export function robotCodeParameter(operation: string, what: string): INodeProperties {
	return {
		displayName: 'Robot Code',
		name: 'robotCode',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'dingxxxxxxxxxxxxxxxx',
		description: `The code of the robot that sent the ${what} (developer console → your app → Robot → RobotCode). Only that robot can recall them.`,
		displayOptions: { show: { operation: [operation] } },
	};
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
		robotCodeParameter(api.operation, 'messages'),
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

/** What a pool learned of DingTalk's whole-call refusals, shared by its batches. */
interface PoolRefusals {
	/** A refusal of the whole chat: no key of it can be recalled, so no batch of it is sent. */
	chat?: RecallOutcome;
	/** Codes no document lists that refused a single key: about the call, not a key; never split again. */
	callCodes: Set<string>;
}

/** Whether to split a refused call so its other keys still go: `halves` for a documented key code, `once` for an unknown code. */
function splitFor(answer: Answer, keys: string[], refusals: PoolRefusals): 'halves' | 'once' | 'no' {
	if (answer.kind !== 'refused' || keys.length < 2 || isConversationCode(answer.code)) return 'no';
	if (isKeyCode(answer.code) || isOverMaxCode(answer.code)) return 'halves';
	return refusals.callCodes.has(answer.code) ? 'no' : 'once';
}

/**
 * One recall call for `keys`, its outcomes put in `ledger`. When DingTalk refuses the whole call because
 * of some of its keys (a documented key code), the batch is split in halves until the bad keys stand
 * alone, so every other key is still recalled. A code no document lists is more often about the call
 * than a key: the batch costs at most three calls (itself, its first key alone, the rest), and once such
 * a code refused a single key, the pool's other batches take it without being split. A refusal of the
 * whole chat is not split: no key of that chat can be recalled.
 */
async function recallKeys(
	client: DingTalkClient,
	api: RobotRecallApi,
	pool: RobotPool,
	keys: string[],
	ledger: BatchLedger,
	refusals: PoolRefusals,
	/** False for the calls that probe an unknown code: they are not split that way again. */
	mayProbe = true,
): Promise<void> {
	const answer = await client.call({ host: 'api', path: api.recallPath, json: recallBody(api, pool, keys) });
	ledger.heard(keys, answer);
	if (answer.kind === 'configuration') throw new ConfigurationError(answer);

	const perKey = answer.body ? outcomesOfBatchAnswer(keys, answer.body, answer.requestId) : undefined;
	if (perKey && (answer.kind === 'ok' || answer.kind === 'refused')) {
		for (const [key, outcome] of perKey) ledger.set(key, outcome);
		return;
	}

	const split = splitFor(answer, keys, refusals);
	if (split === 'halves') {
		const half = Math.ceil(keys.length / 2);
		await recallKeys(client, api, pool, keys.slice(0, half), ledger, refusals);
		await recallKeys(client, api, pool, keys.slice(half), ledger, refusals);
		return;
	}
	if (split === 'once' && mayProbe) {
		const [first, ...rest] = keys;
		await recallKeys(client, api, pool, [first], ledger, refusals, false);
		const firstAlone = ledger.get(first);
		if (firstAlone && !firstAlone.recalled && firstAlone.errorCode === answer.code) {
			// The first key alone was refused the same way: so is the rest, with no more calls.
			const outcome = outcomeOfFailedAnswer(answer);
			for (const key of rest) ledger.set(key, outcome);
			return;
		}
		await recallKeys(client, api, pool, rest, ledger, refusals, false);
		return;
	}

	if (answer.kind === 'refused' && keys.length === 1 && !isKeyCode(answer.code) && !isConversationCode(answer.code)) {
		refusals.callCodes.add(answer.code);
	}
	const outcome =
		answer.kind === 'ok' ? outcomeOfFailedAnswer({ ...answer, code: 'notReported' }) : outcomeOfFailedAnswer(answer);
	for (const key of keys) ledger.set(key, outcome);
}

/** Keys on which DingTalk said it failed internally (`SYSTEM_ERROR` …) are repeated, within the Retries option. */
async function recallWithRepeats(
	client: DingTalkClient,
	api: RobotRecallApi,
	pool: RobotPool,
	keys: string[],
	ledger: BatchLedger,
	refusals: PoolRefusals,
): Promise<void> {
	await recallKeys(client, api, pool, keys, ledger, refusals);
	for (let attempt = 1; attempt <= client.maxRetries && !client.stopped; attempt++) {
		const again = keys.filter((key) => ledger.get(key)?.passingFault);
		if (!again.length) break;
		await client.waitBeforeRepeat(attempt);
		if (client.stopped) break;
		await recallKeys(client, api, pool, again, ledger, refusals);
	}
}

/** Read statuses that show the message still there: sent, or still being sent. */
const NOT_RECALLED_STATUSES = new Set(['SUCCESS', 'PROCESSING']);

/**
 * Asks DingTalk's read status, once, for each key whose outcome is still unclear (a lost answer, no word
 * on the key, an unexplained reason): `RECALLED` moves it to Success. Any other answer settles it as not
 * recalled; none keeps it unclear. Keys just recalled or clearly refused are never asked.
 */
async function confirmUnclear(
	client: DingTalkClient,
	api: RobotRecallApi,
	pool: RobotPool,
	keys: string[],
	ledger: BatchLedger,
): Promise<void> {
	if (!api.readStatus) return;
	for (const key of keys) {
		const outcome = ledger.get(key);
		if (!outcome || outcome.recalled || !outcome.unclear || outcome.checked) continue;
		if (client.stopped) return;
		const answer = await client.call(
			{ ...api.readStatus(pool.robotCode, pool.openConversationId, key), answerField: 'sendStatus' },
			{ once: true },
		);
		if (answer.kind === 'cancelled') return;
		const status = answer.kind === 'ok' ? String(answer.body?.sendStatus).toUpperCase() : '';
		if (status === 'RECALLED') {
			ledger.set(key, confirmedRecalled(answer.requestId));
		} else {
			// Only a status DingTalk documents says the message is still there; anything else settles nothing.
			ledger.set(key, checkedNotRecalled(outcome, NOT_RECALLED_STATUSES.has(status)));
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
		const refusalsByPool = new Map<string, PoolRefusals>();
		return await recallPooled(this, requests, settings, async ([robotCode, openConversationId = ''], keys, ledger) => {
			const pool = { robotCode, openConversationId };
			const poolName = JSON.stringify(pool);
			let refusals = refusalsByPool.get(poolName);
			if (!refusals) refusalsByPool.set(poolName, (refusals = { callCodes: new Set() }));
			const chatRefusal = refusals.chat;
			if (chatRefusal) {
				for (const key of keys) ledger.set(key, chatRefusal);
				return;
			}

			await recallWithRepeats(client, api, pool, keys, ledger, refusals);
			refusals.chat ??= keys.map((key) => ledger.get(key)).find((outcome) => isConversationCode(outcome?.errorCode ?? ''));
			if (settings.checkUnclear) await confirmUnclear(client, api, pool, keys, ledger);
		});
	};
}
