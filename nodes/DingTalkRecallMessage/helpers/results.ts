import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import type { Answer } from '../transport/errors';
import { explainCode } from '../transport/errors';

/** What happened to one key (or one work notification). */
export interface RecallOutcome {
	recalled: boolean;
	errorCode?: string;
	errorMessage?: string;
	requestId?: string;
}

export function recalled(requestId?: string): RecallOutcome {
	return { recalled: true, requestId };
}

export function notRecalled(errorCode: string, errorMessage: string, requestId?: string): RecallOutcome {
	return { recalled: false, errorCode: errorCode || 'unknown', errorMessage, requestId };
}

/** A final answer that is not a success, as the outcome of every key the call carried. */
export function outcomeOfFailedAnswer(answer: Answer): RecallOutcome {
	if (answer.kind === 'throttled') {
		return notRecalled(
			answer.code,
			'DingTalk kept throttling the calls, even after waiting. Lower Parallel Calls, or run again later.',
			answer.requestId,
		);
	}
	const explanation = explainCode(answer.code, '');
	const message = explanation
		? explanation
		: `DingTalk did not recall the message: ${answer.message || answer.code}.`;
	return notRecalled(answer.code, message, answer.requestId);
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
			const reason = String(failed[key] ?? '').trim() || 'failed';
			outcomes.set(key, notRecalled(reason, explainCode(reason, `DingTalk could not recall this message: ${reason}.`), requestId));
		} else {
			outcomes.set(key, notRecalled('notReported', explainCode('notReported', ''), requestId));
		}
	}
	return outcomes;
}

/** One output item: the key's identifying fields, its outcome, and the input item it came from. */
export function outputItem(fields: IDataObject, outcome: RecallOutcome, itemIndex: number): INodeExecutionData {
	const json: IDataObject = { ...fields, recalled: outcome.recalled };
	if (!outcome.recalled) {
		json.errorCode = outcome.errorCode;
		json.errorMessage = outcome.errorMessage;
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
