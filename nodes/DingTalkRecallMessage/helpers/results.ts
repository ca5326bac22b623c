import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { explainCode, STATUS_NOTES, TEXTS } from '../texts';
import type { Answer } from '../transport/errors';
import { isInternalFailure, isKeyCode } from '../transport/errors';

/** What happened to one key (or one work notification). */
export interface RecallOutcome {
	recalled: boolean;
	/** The recall was confirmed by DingTalk's read status (an earlier run, or a call whose answer was lost). */
	alreadyRecalled?: boolean;
	errorCode?: string;
	errorMessage?: string;
	requestId?: string;
	/**
	 * Not shown recalled, but DingTalk may have recalled it (an answer was lost, or said nothing about the
	 * key) and nothing settled it: worth asking its read status; shown as `mayBeRecalled: true`.
	 */
	unclear?: boolean;
	/** DingTalk's read status was asked (its answer, or that it failed, is in the message). Not an output field. */
	checked?: boolean;
	/** DingTalk said it failed internally on this key: worth a repeat. Not an output field. */
	passingFault?: boolean;
}

export function recalled(requestId?: string): RecallOutcome {
	return { recalled: true, requestId };
}

/**
 * An unclear outcome after DingTalk's read status was asked: still not shown recalled. A status that
 * answers settles it (not recalled); a status query that failed leaves it unclear.
 */
export function checkedNotRecalled(outcome: RecallOutcome, statusAnswered: boolean): RecallOutcome {
	const note = statusAnswered ? STATUS_NOTES.notRecalled : STATUS_NOTES.unavailable;
	return { ...outcome, errorMessage: `${outcome.errorMessage} ${note}`, unclear: !statusAnswered, checked: true };
}

/** DingTalk's read status shows the message recalled. */
export function confirmedRecalled(requestId?: string): RecallOutcome {
	return { recalled: true, alreadyRecalled: true, requestId };
}

/** Answers after which nobody can tell whether DingTalk recalled the message. */
const UNCLEAR_CODES = new Set(['notReported', 'notRevoke.all.messages']);

export function notRecalled(errorCode: string, errorMessage: string, requestId?: string): RecallOutcome {
	return { recalled: false, errorCode: errorCode || 'unknown', errorMessage, requestId };
}

/** A final answer that is not a success, as the outcome of every key the call carried. */
export function outcomeOfFailedAnswer(answer: Answer): RecallOutcome {
	let outcome: RecallOutcome;
	if (answer.kind === 'throttled') {
		outcome = notRecalled(answer.code, TEXTS.throttled, answer.requestId);
	} else if (answer.kind === 'cancelled') {
		outcome = notRecalled(answer.code, TEXTS.cancelled, answer.requestId);
	} else if (answer.notSent) {
		// The token could not be had: the call never went, and the answer's own words say why.
		outcome = notRecalled(answer.code, answer.message, answer.requestId);
	} else {
		outcome = notRecalled(answer.code, explainCode(answer.code, TEXTS.notRecalled(answer.message || answer.code)), answer.requestId);
	}
	if (answer.lost || UNCLEAR_CODES.has(answer.code)) outcome.unclear = true;
	return outcome;
}

/**
 * The outcomes a batch gathered so far, and the keys DingTalk may have recalled without saying so: a call
 * whose answer was lost or said nothing clear about them may have recalled them, whatever later calls
 * said (a repeat of a recalled message is refused) or if none came (a stop, a setup error). It outlives
 * a setup error or a stop in the middle of the batch, so nothing it learned is lost.
 */
export class BatchLedger {
	private readonly outcomes = new Map<string, RecallOutcome>();

	private readonly mayBeGone = new Set<string>();

	set(key: string, outcome: RecallOutcome): void {
		this.outcomes.set(key, outcome);
		if (outcome.unclear) this.mayBeGone.add(key);
	}

	/** DingTalk answered a call that carried `keys`: if the answer was lost or left them open, DingTalk may have recalled them. */
	heard(keys: Iterable<string>, answer: Answer): void {
		if (!answer.lost && !UNCLEAR_CODES.has(answer.code)) return;
		for (const key of keys) this.mayBeGone.add(key);
	}

	/** The key's outcome, `fallback` if it has none yet; unclear if not recalled after a lost answer that nothing settled. */
	get(key: string, fallback?: RecallOutcome): RecallOutcome | undefined {
		const outcome = this.outcomes.get(key) ?? fallback;
		if (!outcome || outcome.recalled || outcome.unclear || outcome.checked || !this.mayBeGone.has(key)) return outcome;
		return { ...outcome, unclear: true };
	}

	recalledKeys(): string[] {
		return [...this.outcomes].filter(([, outcome]) => outcome.recalled).map(([key]) => key);
	}

	/** Keys DingTalk may have recalled although nothing confirmed it. */
	maybeRecalledKeys(): string[] {
		return [...this.mayBeGone].filter((key) => this.get(key, { recalled: false, unclear: true })?.unclear);
	}
}

/** One key's `failedResult` reason: a documented key code is final; DingTalk's internal failure is repeated; any other reason is unclear. */
export function outcomeOfFailedReason(reason: string, requestId?: string): RecallOutcome {
	const outcome = notRecalled(reason, explainCode(reason, TEXTS.failedReason(reason)), requestId);
	if (isKeyCode(reason)) return outcome;
	outcome.unclear = true;
	if (isInternalFailure(reason)) outcome.passingFault = true;
	return outcome;
}

/**
 * Reads a batch recall answer: `successResult` lists the recalled keys, `failedResult` maps the others
 * to DingTalk's reason. Returns nothing when the body carries neither (not a per-key answer).
 */
export function outcomesOfBatchAnswer(
	keys: readonly string[],
	body: Record<string, unknown> | undefined,
	requestId?: string,
): Map<string, RecallOutcome> | undefined {
	const successResult = body?.successResult;
	const failedResult = body?.failedResult;
	const hasSuccess = Array.isArray(successResult);
	const hasFailed = failedResult !== null && typeof failedResult === 'object' && !Array.isArray(failedResult);
	if (!hasSuccess && !hasFailed) return undefined;

	const succeeded = new Set(hasSuccess ? (successResult as unknown[]).map(String) : []);
	const failed = (hasFailed ? failedResult : {}) as Record<string, unknown>;
	const outcomes = new Map<string, RecallOutcome>();
	for (const key of keys) {
		if (succeeded.has(key)) {
			outcomes.set(key, recalled(requestId));
		} else if (Object.prototype.hasOwnProperty.call(failed, key)) {
			outcomes.set(key, outcomeOfFailedReason(String(failed[key] ?? '').trim() || 'failed', requestId));
		} else {
			outcomes.set(key, { ...notRecalled('notReported', explainCode('notReported', ''), requestId), unclear: true });
		}
	}
	return outcomes;
}

/** One output item: the key's identifying fields, its outcome, and the input item it came from. */
export function outputItem(fields: IDataObject, outcome: RecallOutcome, itemIndex: number): INodeExecutionData {
	const json: IDataObject = { ...fields, recalled: outcome.recalled };
	if (outcome.alreadyRecalled) json.alreadyRecalled = true;
	if (!outcome.recalled) {
		json.errorCode = outcome.errorCode;
		// Never checked (no read status for this kind of message, or the option is off): say it may be gone.
		json.errorMessage =
			outcome.unclear && !outcome.checked ? `${outcome.errorMessage} ${STATUS_NOTES.unchecked}` : outcome.errorMessage;
		if (outcome.unclear) json.mayBeRecalled = true;
	}
	if (outcome.requestId) json.requestId = outcome.requestId;
	return { json, pairedItem: { item: itemIndex } };
}

/** One key given by the user, ready for an output item once its outcome is known. */
export interface KeyResult {
	fields: IDataObject;
	outcome: RecallOutcome;
	itemIndex: number;
}

/** Builds the two outputs, Success first, each item paired to the input item its key came from. */
export function toOutputs(results: readonly KeyResult[]): INodeExecutionData[][] {
	const success: INodeExecutionData[] = [];
	const failed: INodeExecutionData[] = [];
	for (const { fields, outcome, itemIndex } of results) {
		(outcome.recalled ? success : failed).push(outputItem(fields, outcome, itemIndex));
	}
	return [success, failed];
}

/**
 * The answer an AI agent gets: n8n hands an agent only a tool's first output, so as a tool the node
 * puts every item on it, Success items first, then Failed, each in the order the keys were given.
 */
export function toToolOutput(outputs: INodeExecutionData[][]): INodeExecutionData[][] {
	return [outputs.flat()];
}
