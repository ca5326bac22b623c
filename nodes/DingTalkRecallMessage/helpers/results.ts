import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import type { Answer, KeyVerdict } from '../../../credentials/DingTalkAnswers';
import { configurationMessage, explainCode, TEXTS } from '../../DingTalk/texts';

/** What happened to one key (or one work notification), as DingTalk or the node told it. */
export type RecallOutcome =
	| {
			recalled: true;
			/** This run's recall call, or DingTalk's read status (recalled before, or by a call whose answer was lost). */
			by: 'call' | 'readStatus';
			requestId?: string;
	  }
	| {
			recalled: false;
			errorCode: string;
			errorMessage: string;
			requestId?: string;
			/** DingTalk refused it for a reason no document lists: its read status may show it recalled before. */
			readStatusMaySettle: boolean;
	  };

export function recalled(requestId?: string, by: 'call' | 'readStatus' = 'call'): RecallOutcome {
	return { recalled: true, by, requestId };
}

export function notRecalled(errorCode: string, errorMessage: string, requestId?: string): RecallOutcome {
	return { recalled: false, errorCode: errorCode || 'unknown', errorMessage, requestId, readStatusMaySettle: false };
}

/** DingTalk answered, but its answer did not name the key. */
export function notReported(requestId?: string): RecallOutcome {
	return notRecalled('notReported', explainCode('notReported', ''), requestId);
}

/** A final answer that is not a success, as the outcome of every key the call carried. */
export function outcomeOfAnswer(answer: Answer): RecallOutcome {
	const { code, requestId } = answer;
	switch (answer.kind) {
		case 'throttled':
			return notRecalled(code, explainCode(code, TEXTS.throttled), requestId);
		case 'tokenUnavailable':
			return notRecalled(code, answer.message, requestId);
		case 'configuration':
			return notRecalled(code, configurationMessage(answer), requestId);
		case 'ok':
			return notReported(requestId);
		default:
			return notRecalled(code, explainCode(code, TEXTS.notRecalled(code, answer.message)), requestId);
	}
}

/** One key's verdict in a per-key answer, when it was not recalled. */
export function outcomeOfVerdict(verdict: Exclude<KeyVerdict, { recalled: true }>, requestId?: string): RecallOutcome {
	const errorMessage = explainCode(verdict.reason, TEXTS.failedReason(verdict.reason));
	return { recalled: false, errorCode: verdict.reason, errorMessage, requestId, readStatusMaySettle: !verdict.documented };
}

/** One output item: the key's identifying fields, its outcome, and the input item it came from. */
export function outputItem(fields: IDataObject, outcome: RecallOutcome, itemIndex: number, mayBeRecalled = false): INodeExecutionData {
	const json: IDataObject = { ...fields, recalled: outcome.recalled };
	if (outcome.recalled && outcome.by === 'readStatus') json.alreadyRecalled = true;
	if (!outcome.recalled) {
		json.errorCode = outcome.errorCode;
		json.errorMessage = outcome.errorMessage;
		if (mayBeRecalled) json.mayBeRecalled = true;
	}
	if (outcome.requestId) json.requestId = outcome.requestId;
	return { json, pairedItem: { item: itemIndex } };
}

/** One key given by the user, with its outcome. */
export interface KeyResult {
	fields: IDataObject;
	outcome: RecallOutcome;
	itemIndex: number;
	mayBeRecalled?: boolean;
}

/** Builds the two outputs, Success first, each item paired to the input item its key came from. */
export function toOutputs(results: readonly KeyResult[]): INodeExecutionData[][] {
	const success: INodeExecutionData[] = [];
	const failed: INodeExecutionData[] = [];
	for (const { fields, outcome, itemIndex, mayBeRecalled } of results) {
		(outcome.recalled ? success : failed).push(outputItem(fields, outcome, itemIndex, mayBeRecalled));
	}
	return [success, failed];
}
