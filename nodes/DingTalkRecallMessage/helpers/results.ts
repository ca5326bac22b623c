import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import type { Answer, KeyVerdict } from '../../../credentials/DingTalkAnswers';
import { keyVerdicts } from '../../../credentials/DingTalkAnswers';
import { explainCode, STATUS_NOTES, TEXTS } from '../texts';

/** What happened to one key (or one work notification), as DingTalk or the node told it. */
export interface RecallOutcome {
	recalled: boolean;
	/** The recall was confirmed by DingTalk's read status (an earlier run, or a call whose answer was lost). */
	alreadyRecalled?: boolean;
	errorCode?: string;
	errorMessage?: string;
	requestId?: string;
	/** DingTalk refused it for a reason no document lists: its read status may show it recalled before. Not an output field. */
	askStatus?: boolean;
	/** DingTalk may have recalled it though nothing confirmed it: an answer about it was lost and nothing settled it since. */
	mayBeRecalled?: boolean;
}

export function recalled(requestId?: string): RecallOutcome {
	return { recalled: true, requestId };
}

export function notRecalled(errorCode: string, errorMessage: string, requestId?: string): RecallOutcome {
	return { recalled: false, errorCode: errorCode || 'unknown', errorMessage, requestId };
}

/** DingTalk answered, but its answer did not name the key. */
function notReported(requestId?: string): RecallOutcome {
	return notRecalled('notReported', explainCode('notReported', ''), requestId);
}

/** What a configuration error says, in DingTalk's words, and what to do about it where its row says. */
export function configurationProblem(answer: Answer): { problem: string; fix?: string } {
	// A token failure's message already says what to check.
	if (!answer.text) return { problem: answer.message };
	return { problem: TEXTS.refusedCall(answer.code, answer.message), fix: answer.text };
}

/** What a configuration error tells the user on a Failed item: DingTalk's words, then what to do, each once. */
export function configurationMessage(answer: Answer): string {
	const { problem, fix } = configurationProblem(answer);
	return fix ? `${problem}. ${fix}` : problem;
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
	return {
		...notRecalled(verdict.reason, explainCode(verdict.reason, TEXTS.failedReason(verdict.reason)), requestId),
		askStatus: !verdict.documented,
	};
}

/** What DingTalk's read status said of a key: `recalled`, still there (`notRecalled`), or nothing to go by (`unavailable`). */
export type StatusReading = 'recalled' | 'notRecalled' | 'unavailable';

/**
 * The outcomes of one pool's keys, and what is still open about them. A key is *unheard* when an answer
 * about it was lost (a timeout, a dropped connection, a body that is not DingTalk's, a per-key answer that
 * does not name it): DingTalk may have recalled it. Only a recall or a read status settles that; a later
 * refusal does not (a repeat of a recalled message is refused). The ledger outlives a setup error or a
 * stop in the middle of a batch, so nothing it learned is lost.
 */
export class KeyLedger {
	private readonly outcomes = new Map<string, RecallOutcome>();

	private readonly unheard = new Set<string>();

	private readonly statusReadings = new Map<string, StatusReading>();

	/** The key's outcome as DingTalk last told it; a recall DingTalk confirmed stays, whatever comes after. */
	set(key: string, outcome: RecallOutcome): void {
		if (this.outcomes.get(key)?.recalled) return;
		this.outcomes.set(key, outcome);
		if (outcome.recalled) this.unheard.delete(key);
	}

	/** DingTalk told something of the key already (or its answer was lost). */
	told(key: string): boolean {
		return this.outcomes.has(key) || this.unheard.has(key);
	}

	/** No answer about these keys was heard: DingTalk may have recalled them. */
	notHeard(keys: Iterable<string>, outcome?: RecallOutcome): void {
		for (const key of keys) {
			if (this.outcomes.get(key)?.recalled) continue;
			this.unheard.add(key);
			if (outcome) this.set(key, outcome);
		}
	}

	/**
	 * Every attempt of a call that carried `keys`, the ones repeated too: a key its per-key result names as
	 * recalled is recalled (a repeat would be refused as already recalled); a lost answer leaves the others unheard.
	 */
	hear(keys: readonly string[], answer: Answer): void {
		const verdicts = keyVerdicts(answer.body);
		for (const key of keys) if (verdicts.get(key)?.recalled) this.set(key, recalled(answer.requestId));
		if (answer.kind === 'lost') this.notHeard(keys.filter((key) => !verdicts.has(key)));
	}

	/** DingTalk answered for these keys with a per-key answer; returns the keys it did not name, and those it failed on for a moment. */
	heardPerKey(keys: readonly string[], verdicts: ReadonlyMap<string, KeyVerdict>, requestId?: string): string[] {
		const again: string[] = [];
		for (const key of keys) {
			const verdict = verdicts.get(key);
			if (!verdict) {
				this.notHeard([key], notReported(requestId));
				again.push(key);
			} else if (verdict.recalled) {
				this.set(key, recalled(requestId));
			} else {
				this.set(key, outcomeOfVerdict(verdict, requestId));
				if (verdict.kind === 'failed') again.push(key);
			}
		}
		return again;
	}

	/** What DingTalk's read status said of the key. */
	statusShows(key: string, reading: StatusReading, requestId?: string): void {
		this.statusReadings.set(key, reading);
		if (reading === 'recalled') this.set(key, { recalled: true, alreadyRecalled: true, requestId });
		if (reading === 'notRecalled') this.unheard.delete(key);
	}

	/** Not recalled, its read status not yet asked, and something the status could settle: an unheard answer, an unexplained refusal. */
	worthAsking(key: string): boolean {
		const outcome = this.outcomes.get(key);
		if (!outcome || outcome.recalled || this.statusReadings.has(key)) return false;
		return this.unheard.has(key) || outcome.askStatus === true;
	}

	/** The key's outcome as the user sees it (`fallback` if none was told), its message saying what is open. */
	get(key: string, fallback?: RecallOutcome): RecallOutcome | undefined {
		const outcome = this.outcomes.get(key) ?? fallback;
		if (!outcome || outcome.recalled) return outcome;
		const unheard = this.unheard.has(key);
		const reading = this.statusReadings.get(key);
		let note: string | undefined;
		if (reading === 'notRecalled') note = STATUS_NOTES.notRecalled;
		else if (unheard) note = reading === 'unavailable' ? STATUS_NOTES.unavailable : STATUS_NOTES.unchecked;
		const shown = { ...outcome };
		delete shown.askStatus;
		return {
			...shown,
			errorMessage: note ? `${outcome.errorMessage} ${note}` : outcome.errorMessage,
			...(unheard ? { mayBeRecalled: true } : {}),
		};
	}

	/** Keys this run's calls recalled, as DingTalk's answers said. */
	recalledKeys(): string[] {
		return [...this.outcomes].filter(([, outcome]) => outcome.recalled && !outcome.alreadyRecalled).map(([key]) => key);
	}

	/** Keys DingTalk's read status showed recalled. */
	confirmedKeys(): string[] {
		return [...this.outcomes].filter(([, outcome]) => outcome.alreadyRecalled).map(([key]) => key);
	}

	/** Keys DingTalk may have recalled although nothing confirmed it. */
	maybeRecalledKeys(): string[] {
		return [...this.unheard];
	}
}

/** One output item: the key's identifying fields, its outcome, and the input item it came from. */
export function outputItem(fields: IDataObject, outcome: RecallOutcome, itemIndex: number): INodeExecutionData {
	const json: IDataObject = { ...fields, recalled: outcome.recalled };
	if (outcome.alreadyRecalled) json.alreadyRecalled = true;
	if (!outcome.recalled) {
		json.errorCode = outcome.errorCode;
		json.errorMessage = outcome.errorMessage;
		if (outcome.mayBeRecalled) json.mayBeRecalled = true;
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
