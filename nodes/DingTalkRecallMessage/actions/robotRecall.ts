import type { INodeProperties } from 'n8n-workflow';

import { keyVerdicts } from '../../../credentials/DingTalkAnswers';
import { parseOpenConversationId, parseProcessQueryKeys, parseRobotCode } from '../../DingTalk/helpers/inputs';
import type { KeyLedger } from '../helpers/keyLedger';
import { outcomeOfAnswer } from '../helpers/results';
import type { Answer, DingTalkCall, DingTalkClient } from '../../DingTalk/transport';
import type { ItemParameter } from '../../DingTalk/helpers/inputs';
import type { BatchEnd, KeyParameters, Recall } from './recall';
import { BATCH_DONE, recallPooled } from './recall';

/** What sets one of DingTalk's robot recall APIs apart: its paths, whether it works per chat, the send call it follows. */
export interface RobotRecallApi {
	operation: string;
	recallPath: string;
	/** DingTalk's read status of one message: `sendStatus: RECALLED` confirms a recall. */
	readStatusPath: string;
	/** Group and private-chat recalls name the chat: keys are pooled per robot and chat. */
	inConversation: boolean;
	/** The send call that returns the keys, for the parameter's description. */
	sentBy: string;
}

/** The robot that sent what `operation` recalls (`what`: messages, DING messages); only that robot can recall it. */
export function robotCodeParameter(operation: string, what: string): INodeProperties {
	return {
		displayName: 'Robot Code',
		name: 'robotCode',
		type: 'string',
		required: true,
		default: '={{ $json.robotCode }}',
		placeholder: 'dingxxxxxxxxxxxxxxxx',
		description: `The code of the robot that sent the ${what} (developer console → your app → Robot → RobotCode). Only that robot can recall them. By default each item's robotCode, as the DingTalk Send Message node gives it.`,
		displayOptions: { show: { operation: [operation] } },
	};
}

/** The per-item parameters of a robot recall operation. */
function robotParameters(api: RobotRecallApi): INodeProperties[] {
	const displayOptions = { show: { operation: [api.operation] } };
	const conversation: INodeProperties[] = api.inConversation
		? [
				{
					displayName: 'Open Conversation ID',
					name: 'openConversationId',
					type: 'string',
					required: true,
					default: '={{ $json.openConversationId }}',
					placeholder: 'e.g. cidXXXXXXXXXXXXXXXX==',
					description:
						"The openConversationId of the chat the messages were sent to: by default each item's openConversationId, as the DingTalk Send Message node gives it (items may name different chats)",
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
			default: '={{ $json.processQueryKey }}',
			placeholder: 'e.g. Kna29Ra5pdJznx1ghavbumkQKwDzgfxZLapw55G7x0Q=',
			description: `The ID DingTalk gave the message when the robot sent it: the processQueryKey of the DingTalk Send Message node's Success item, or of the send call's answer (${api.sentBy}). One key, a comma-separated list, or an array of keys.`,
			hint: "By default each item's processQueryKey field: a DingTalk Send Message node's Success output, or a table row that kept it, recalls with nothing filled in",
			displayOptions,
		},
	];
}

function poolParameters(api: RobotRecallApi): ItemParameter[] {
	const robotCode = { name: 'robotCode', parse: parseRobotCode };
	if (!api.inConversation) return [robotCode];
	return [robotCode, { name: 'openConversationId', parse: parseOpenConversationId }];
}

/** One robot (and, for chats, one conversation): where a batch of keys goes. */
type RobotPool = { robotCode: string; openConversationId: string };

/** DingTalk's batch recall answer names the keys: `successResult` the recalled ones, `failedResult` the others. */
const RECALL_RESULT_FIELDS = ['successResult', 'failedResult'];

function recallCall(api: RobotRecallApi, pool: RobotPool, keys: string[]): DingTalkCall {
	const json = api.inConversation
		? { openConversationId: pool.openConversationId, robotCode: pool.robotCode, processQueryKeys: keys }
		: { robotCode: pool.robotCode, processQueryKeys: keys };
	return { host: 'api', path: api.recallPath, json, resultFields: RECALL_RESULT_FIELDS };
}

/** One batch's work: its API, pool and the pool's ledger. */
interface BatchRun {
	client: DingTalkClient;
	api: RobotRecallApi;
	pool: RobotPool;
	ledger: KeyLedger;
}

/** A refusal of a whole call. */
type Refusal = Extract<Answer, { kind: 'refused' }>;

/** Which refusals of a whole call split it: any, only those for its keys (a bad key, too many keys), or none (the caller splits). */
type Split = 'any' | 'forKeys' | 'none';

/** The keys worth asking again (and the refusal, where DingTalk refused the call as a whole), or the setup error that ended the batch. */
type KeysEnd = { again: string[]; refusedWhole?: Refusal } | Extract<BatchEnd, { ended: 'configuration' }>;

/** The keys worth asking again of several calls in a row, stopping at a setup error. */
async function inTurn(...steps: Array<() => Promise<KeysEnd>>): Promise<KeysEnd> {
	const again: string[] = [];
	for (const step of steps) {
		const end = await step();
		if (!('again' in end)) return end;
		again.push(...end.again);
	}
	return { again };
}

/** One recall call for `keys`, told to the ledger; a call refused as a whole is split (docs/reliability.md, "Refusals") as `split` lets. */
async function recallKeys(run: BatchRun, keys: string[], split: Split = 'any'): Promise<KeysEnd> {
	const { client, api, pool, ledger } = run;
	const answer = await client.call(recallCall(api, pool, keys), { hear: (attempt) => ledger.hearAttempt(keys, attempt) });
	if (answer.kind === 'configuration') {
		for (const key of keys) ledger.tell(key, outcomeOfAnswer(answer));
		return { ended: 'configuration', answer };
	}
	const verdicts = keyVerdicts(answer.body);
	const named = keys.filter((key) => verdicts.has(key));
	const unnamed = keys.filter((key) => !verdicts.has(key));
	if (answer.kind === 'refused' && (answer.reach === 'key' || answer.reach === 'size') && named.length && unnamed.length) {
		// Refused for the keys it named: DingTalk may have recalled the others, which go again at once, unheard till then.
		const again = ledger.perKeyAnswer(named, verdicts, answer.requestId);
		ledger.answerLost(unnamed);
		return await inTurn(async () => ({ again }), async () => await recallKeys(run, unnamed));
	}
	if (named.length || answer.kind === 'ok') return { again: ledger.perKeyAnswer(keys, verdicts, answer.requestId) };
	if (answer.kind !== 'refused') {
		// Lost, failed, throttled after the repeats; no token; the stop.
		for (const key of keys) ledger.tell(key, outcomeOfAnswer(answer));
		return { again: [] };
	}
	if (answer.reach === 'unheard') {
		// Some of the keys were recalled, DingTalk did not say which.
		ledger.answerLost(keys, outcomeOfAnswer(answer));
		return { again: [] };
	}
	if (keys.length === 1 && answer.reach === 'call') run.ledger.callCodes.add(answer.code);
	// A bad key the caller isolates itself: the keys stay untold until then.
	if (split === 'none' && answer.reach === 'key') return { again: [], refusedWhole: answer };
	const forKeys = answer.reach === 'key' || answer.reach === 'size';
	if (split === 'none' || keys.length === 1 || (split === 'forKeys' && !forKeys) || run.ledger.callCodes.has(answer.code)) {
		for (const key of keys) ledger.tell(key, outcomeOfAnswer(answer));
		return { again: [], refusedWhole: answer };
	}
	if (answer.reach === 'key') return await isolateBadKeys(run, keys);
	const half = Math.ceil(keys.length / 2);
	if (answer.reach === 'size') return await inTurn(async () => await recallKeys(run, keys.slice(0, half)), async () => await recallKeys(run, keys.slice(half)));
	const [first, ...rest] = keys;
	const firstAlone = await recallKeys(run, [first], 'forKeys');
	if (!('again' in firstAlone)) return firstAlone;
	if (firstAlone.refusedWhole?.code === answer.code) {
		// The first key alone refused the same way: so is the rest, with no more calls.
		for (const key of rest) ledger.tell(key, outcomeOfAnswer(answer));
		return firstAlone;
	}
	return await inTurn(async () => firstAlone, async () => await recallKeys(run, rest, 'forKeys'));
}

/** The bad keys of a call refused for a key it did not name, in halves, then key by key once both are refused: 20 bad keys, 23 calls. */
async function isolateBadKeys(run: BatchRun, keys: string[]): Promise<KeysEnd> {
	const singly = async (some: string[]) => await inTurn(...some.map((key) => async () => await recallKeys(run, [key])));
	if (keys.length <= 3) return await singly(keys);
	const halves = [keys.slice(0, Math.ceil(keys.length / 2)), keys.slice(Math.ceil(keys.length / 2))];
	const ends: KeysEnd[] = [];
	for (const half of halves) {
		const end = await recallKeys(run, half, 'none');
		if (!('again' in end)) return end;
		ends.push(end);
	}
	const bad = halves.filter((_half, index) => 'again' in ends[index] && ends[index].refusedWhole?.reach === 'key');
	const again = ends.flatMap((end) => ('again' in end ? end.again : []));
	if (bad.length === 2) return await inTurn(async () => ({ again }), async () => await singly(keys));
	if (bad.length === 1) return await inTurn(async () => ({ again }), async () => await isolateBadKeys(run, bad[0]));
	return { again };
}

/** Keys DingTalk failed on for a moment, or left unnamed, are asked again within the Retries option. */
async function recallWithRepeats(run: BatchRun, keys: string[]): Promise<BatchEnd> {
	const { client } = run;
	let end = await recallKeys(run, keys);
	for (let attempt = 1; 'again' in end && end.again.length && attempt <= client.maxRetries && !client.stopped; attempt++) {
		await client.waitBeforeRepeat(attempt);
		if (client.stopped) break;
		end = await recallKeys(run, end.again);
	}
	return 'again' in end ? BATCH_DONE : end;
}

/** One message's read status; a chat's takes one page of readers, as only the send status is needed. */
function readStatusCall(api: RobotRecallApi, { robotCode, openConversationId }: RobotPool, processQueryKey: string): DingTalkCall {
	const resultFields = ['sendStatus'];
	if (!api.inConversation) return { host: 'api', method: 'GET', path: api.readStatusPath, qs: { robotCode, processQueryKey }, resultFields };
	return { host: 'api', path: api.readStatusPath, json: { openConversationId, robotCode, processQueryKey, maxResults: 1 }, resultFields };
}

/** Read statuses that show the message still there: sent, or still being sent. */
const NOT_RECALLED_STATUSES = new Set(['SUCCESS', 'PROCESSING']);

/** Asks the read status, once, of each key it could settle (`RECALLED` puts it on Success); keys recalled or clearly refused never. */
async function confirmByReadStatus(run: BatchRun, keys: string[]): Promise<void> {
	const { client, api, pool, ledger } = run;
	// Refused for the robot or the app: no other key's can be had either.
	let refusedForAll = false;
	for (const key of keys) {
		if (!ledger.needsReadStatus(key)) continue;
		if (refusedForAll) {
			ledger.readStatusShows(key, 'unavailable');
			continue;
		}
		if (client.stopped) return;
		const call = readStatusCall(api, pool, key);
		const answer = await client.call(call, { once: true });
		if (answer.kind === 'cancelled' || client.stopped) return;
		refusedForAll = answer.kind === 'configuration';
		const status = answer.kind === 'ok' ? String(answer.body?.sendStatus).toUpperCase() : '';
		if (status === 'RECALLED') ledger.readStatusShows(key, 'recalled', answer.requestId);
		else ledger.readStatusShows(key, NOT_RECALLED_STATUSES.has(status) ? 'notRecalled' : 'unavailable');
	}
}

/** A robot recall operation: its parameters, how it reads its items (keys pooled per robot and chat), and its recall, 20 keys per call. */
export function robotRecallOperation(api: RobotRecallApi) {
	const keyParameters: KeyParameters = {
		operation: api.operation,
		pool: poolParameters(api),
		valueParameter: 'processQueryKeys',
		valueField: 'processQueryKey',
		parseValues: parseProcessQueryKeys,
		emptyProblem: 'processQueryKeys is empty: give at least one processQueryKey',
		display: (value) => value,
	};
	const recall: Recall = async function (requests, client, settings) {
		return await recallPooled(this, requests, settings, async ([robotCode, openConversationId = ''], keys, ledger) => {
			const run: BatchRun = { client, api, pool: { robotCode, openConversationId }, ledger };
			const end = await recallWithRepeats(run, keys);
			if (end.ended === 'done' && settings.checkUnclear) await confirmByReadStatus(run, keys);
			return end;
		});
	};
	return { description: robotParameters(api), keyParameters, recall };
}
