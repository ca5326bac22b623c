import type { IDataObject, IExecuteFunctions, INodeExecutionData, JsonObject } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import type { ConfigurationAnswer } from '../../../credentials/DingTalkAnswers';
import { codeLabel } from '../../../credentials/DingTalkAnswers';
import { chunk, runWithConcurrency, uniqueByPool } from '../../DingTalk/helpers/batching';
import type { ItemParameter, ParsedList } from '../../DingTalk/helpers/inputs';
import { parameterReader } from '../../DingTalk/helpers/inputs';
import { KeyLedger } from '../helpers/keyLedger';
import type { KeyResult, RecallOutcome } from '../helpers/results';
import { notRecalled, outcomeOfAnswer, recalled, toOutputs } from '../helpers/results';
import { configurationMessage, configurationProblem, TEXTS } from '../../DingTalk/texts';
import type { Answer, DingTalkCall, DingTalkClient } from '../../DingTalk/transport';

/** One key (or task id) as the user gave it: where it came from, and either what to recall or why it cannot be. */
export interface KeyRequest {
	itemIndex: number;
	/** Calls are pooled per robotCode (and openConversationId) or agentId: the pool's values, as JSON. */
	pool?: string;
	value?: string;
	/** Set when the input is not valid: the key goes to Failed as `invalidInput`. */
	problem?: string;
	/** The fields the output item shows (operation, key, robotCode …). */
	fields: IDataObject;
}

/** How a batch ended: done, or a setup error of its pool (its keys fail) or of the app (the run stops). */
export type BatchEnd = { ended: 'done' } | { ended: 'configuration'; answer: ConfigurationAnswer };

export const BATCH_DONE: BatchEnd = { ended: 'done' };

export interface PoolSettings {
	batchSize: number;
	concurrency: number;
	/** Ask DingTalk's read status for keys whose outcome is unclear (where it has one). */
	checkUnclear: boolean;
}

/** How an operation reads its per-item parameters: the pool (robotCode …, agentId) and the values to recall. */
export interface KeyParameters {
	operation: string;
	/** Keys are sent together only where all of these agree. */
	pool: ItemParameter[];
	valueParameter: string;
	/** The output field that shows the value. */
	valueField: string;
	parseValues: (value: unknown) => ParsedList;
	emptyProblem: string;
	/** How a value is shown in the output item (work notification IDs are numbers). */
	display: (value: string) => string | number;
}

/** Reads every input item into key requests; bad input becomes a request with a problem, never an exception. */
export function collectKeyRequests(context: IExecuteFunctions, items: INodeExecutionData[], parameters: KeyParameters): KeyRequest[] {
	const { operation, valueField, display } = parameters;
	const readPool = parameters.pool.map((pool) => ({ ...pool, read: parameterReader(context, items, pool.name) }));
	const readValues = parameterReader(context, items, parameters.valueParameter);
	return items.flatMap((_item, itemIndex): KeyRequest[] => {
		const poolFields: IDataObject = {};
		let poolProblem: string | undefined;
		try {
			const poolValues = readPool.map(({ name, parse, display: show = String, read }) => {
				const { value, problem } = parse(read(itemIndex));
				poolFields[name] = value === undefined ? '' : show(value);
				poolProblem ??= problem;
				return value;
			});
			const pool = poolProblem ? undefined : JSON.stringify(poolValues);
			const fields = (value: string) => ({ operation, [valueField]: value === '' ? '' : display(value), ...poolFields });
			const { values, problems } = parameters.parseValues(readValues(itemIndex));
			if (!values.length && !problems.length) return [{ itemIndex, problem: poolProblem ?? parameters.emptyProblem, fields: fields('') }];
			return [
				...values.map((value) => ({ itemIndex, pool, value, problem: poolProblem, fields: fields(value) })),
				...problems.map(({ value, problem }) => ({ itemIndex, problem, fields: { ...fields(''), [valueField]: value } })),
			];
		} catch (error) {
			const fields = { operation, [valueField]: '', ...Object.fromEntries(parameters.pool.map(({ name }) => [name, ''])) };
			return [{ itemIndex, problem: `its parameters could not be read (${(error as Error).message})`, fields }];
		}
	});
}

export function invalidInput(itemIndex: number, problem: string): RecallOutcome {
	return notRecalled('invalidInput', `Item ${itemIndex}: ${problem}.`);
}

/** At most this many recalled keys are named in the error that stops a run. */
const RECALLED_KEYS_SHOWN = 20;

/** What a stop after DingTalk already recalled some keys must say: they are gone. */
function alreadyGoneNote(ledgers: KeyLedger[]): string {
	const summaries = ledgers.map((ledger) => ledger.summary());
	const recalledKeys = summaries.flatMap((summary) => summary.recalledByRun);
	const confirmed = summaries.reduce((sum, summary) => sum + summary.confirmedByStatus, 0);
	const maybeRecalled = summaries.reduce((sum, summary) => sum + summary.maybeRecalled, 0);
	const notes = [
		recalledKeys.length ? TEXTS.recalledBeforeStop(recalledKeys.length, recalledKeys.slice(0, RECALLED_KEYS_SHOWN)) : '',
		confirmed ? TEXTS.confirmedBeforeStop(confirmed) : '',
		maybeRecalled ? TEXTS.maybeRecalledBeforeStop(maybeRecalled) : '',
	];
	return notes.filter(Boolean).map((note) => ` ${note}`).join('');
}

/** The error that stops the run, in DingTalk's own code: what went wrong, what to fix, and what is already gone. */
function configurationFailure(context: IExecuteFunctions, answer: Answer, ledgers: KeyLedger[]): NodeApiError {
	const requestId = answer.requestId ? `, request ID ${answer.requestId}` : '';
	const { problem, fix = TEXTS.credentialTest } = configurationProblem(answer);
	return new NodeApiError(context.getNode(), { code: answer.code, message: answer.message } as JsonObject, {
		message: problem,
		description: `${fix} (${codeLabel(answer.code)}${requestId})${alreadyGoneNote(ledgers)}`,
	});
}

/** Recalls one batch of a pool, its outcomes put in `ledger`: `pool` holds the pool parameters' values, in the operation's order. */
export type RecallBatch = (pool: string[], values: string[], ledger: KeyLedger) => Promise<BatchEnd>;

/** The recall loop: each unique key once, in batches per pool, every key request one outcome in the order given. */
export async function recallPooled(
	context: IExecuteFunctions,
	requests: readonly KeyRequest[],
	settings: PoolSettings,
	recallBatch: RecallBatch,
): Promise<INodeExecutionData[][]> {
	const valid = requests.filter((request) => !request.problem) as Array<Required<Omit<KeyRequest, 'problem'>>>;
	const ledgers = new Map<string, KeyLedger>();
	const batches: Array<{ pool: string; values: string[] }> = [];
	for (const [pool, values] of uniqueByPool(valid.map(({ pool, value }) => ({ pool, value })))) {
		ledgers.set(pool, new KeyLedger());
		for (const slice of chunk(values, settings.batchSize)) batches.push({ pool, values: slice });
	}
	const signal = context.getExecutionCancelSignal?.();
	/** Pools DingTalk refused as a whole: the outcome of every key of theirs DingTalk told nothing of. */
	const refusedPools = new Map<string, RecallOutcome>();

	let stoppedBy: Answer | undefined;
	await runWithConcurrency(
		batches,
		settings.concurrency,
		async ({ pool, values }) => {
			const ledger = ledgers.get(pool)!;
			let end: BatchEnd = BATCH_DONE;
			try {
				if (!refusedPools.has(pool)) end = await recallBatch(JSON.parse(pool) as string[], values, ledger);
			} catch (error) {
				// A fault of the node itself must not lose the batch's keys: they go to Failed with the reason.
				for (const value of values) ledger.tell(value, notRecalled('internalError', TEXTS.nodeFailed((error as Error).message)));
			}
			if (end.ended === 'configuration' && end.answer.scope === 'app') stoppedBy ??= end.answer;
			else if (end.ended === 'configuration' && !refusedPools.has(pool)) refusedPools.set(pool, outcomeOfAnswer(end.answer));
			// Keys DingTalk told of before the refusal keep their own outcome; the others take the pool's.
			const refused = refusedPools.get(pool);
			if (refused) for (const value of values) if (!ledger.knows(value)) ledger.tell(value, refused);
		},
		() => stoppedBy !== undefined || signal?.aborted === true,
	);

	if (stoppedBy && !context.continueOnFail()) throw configurationFailure(context, stoppedBy, [...ledgers.values()]);

	let notReached: RecallOutcome;
	if (stoppedBy) notReached = notRecalled(stoppedBy.code, configurationMessage(stoppedBy), stoppedBy.requestId);
	else if (signal?.aborted) notReached = outcomeOfAnswer({ kind: 'cancelled', code: 'cancelled', message: '' });
	else notReached = notRecalled('notReported', TEXTS.notReached);
	const results: KeyResult[] = requests.map(({ itemIndex, pool, value, problem, fields }) => ({
		itemIndex,
		fields,
		...(problem ? { outcome: invalidInput(itemIndex, problem) } : ledgers.get(pool!)!.report(value!, notReached)),
	}));
	return toOutputs(results);
}

/** Every key request on Failed with one outcome: a setup error before any call, with Continue On Fail. */
export function allFailed(requests: readonly KeyRequest[], outcome: RecallOutcome): INodeExecutionData[][] {
	return toOutputs(
		requests.map(({ itemIndex, problem, fields }) => ({
			itemIndex,
			fields,
			outcome: problem ? invalidInput(itemIndex, problem) : outcome,
		})),
	);
}

/** How a one-message-per-call API is called, and what a refusal of its own says (the shared reading otherwise). */
export interface SingleRecallApi {
	callFor: (pool: string[], value: string) => DingTalkCall;
	outcomeOfRefusal?: (answer: Answer) => RecallOutcome | undefined;
}

/** An operation's recall of the items' key requests. */
export type Recall = (
	this: IExecuteFunctions,
	requests: readonly KeyRequest[],
	client: DingTalkClient,
	settings: PoolSettings,
) => Promise<INodeExecutionData[][]>;

/** The recall of a one-message API (work notifications, DINGs): a call per unique value. */
export function recallEach(api: SingleRecallApi): Recall {
	return async function recall(requests, client, settings) {
		return await recallPooled(this, requests, { ...settings, batchSize: 1 }, async (pool, [value], ledger) => {
			const answer = await client.call(api.callFor(pool, value), { hear: (attempt) => ledger.hearAttempt([value], attempt) });
			if (answer.kind === 'ok') ledger.tell(value, recalled(answer.requestId));
			else ledger.tell(value, (answer.kind === 'refused' ? api.outcomeOfRefusal?.(answer) : undefined) ?? outcomeOfAnswer(answer));
			return answer.kind === 'configuration' ? { ended: 'configuration', answer } : BATCH_DONE;
		});
	};
}
