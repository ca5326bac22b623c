import type { Answer, KeyVerdict } from '../../../credentials/DingTalkAnswers';
import { keyVerdicts } from '../../../credentials/DingTalkAnswers';
import { STATUS_NOTES } from '../../DingTalk/texts';
import type { RecallOutcome } from './results';
import { notReported, outcomeOfVerdict, recalled } from './results';

/** What DingTalk's read status said of a key: `recalled`, still there (`notRecalled`), or nothing to go by (`unavailable`). */
export type StatusReading = 'recalled' | 'notRecalled' | 'unavailable';

/** What the run knows of one key. */
interface KeyRecord {
	/** What DingTalk last told of it. */
	outcome?: RecallOutcome;
	/** An answer about it was lost: DingTalk may have recalled it; only a recall or a read status settles that (a later refusal does not). */
	answerLost: boolean;
	/** What its read status showed, once asked. */
	readStatus?: StatusReading;
}

/** What one pool's recall learned of each key: it outlives a setup error or a stop, so nothing learned is lost. */
export class KeyLedger {
	/** Codes no document lists that refused a single key: about the call, so the pool's batches take them unsplit. */
	readonly callCodes = new Set<string>();
	private readonly records = new Map<string, KeyRecord>();

	private record(key: string): KeyRecord {
		let record = this.records.get(key);
		if (!record) this.records.set(key, (record = { answerLost: false }));
		return record;
	}

	/** DingTalk's word on the key; a recall DingTalk confirmed stays, whatever comes after. */
	tell(key: string, outcome: RecallOutcome): void {
		const record = this.record(key);
		if (record.outcome?.recalled) return;
		record.outcome = outcome;
		if (outcome.recalled) record.answerLost = false;
	}

	/** No answer about these keys was heard: DingTalk may have recalled them. */
	answerLost(keys: Iterable<string>, outcome?: RecallOutcome): void {
		for (const key of keys) {
			const record = this.record(key);
			if (record.outcome?.recalled) continue;
			record.answerLost = true;
			if (outcome) record.outcome = outcome;
		}
	}

	/** Every attempt of a call that carried `keys`: a key its per-key result names as recalled is recalled; a lost answer leaves the others unheard. */
	hearAttempt(keys: readonly string[], answer: Answer): void {
		const verdicts = keyVerdicts(answer.body);
		for (const key of keys) if (verdicts.get(key)?.recalled) this.tell(key, recalled(answer.requestId));
		if (answer.kind === 'lost') this.answerLost(keys.filter((key) => !verdicts.has(key)));
	}

	/** DingTalk answered for these keys one by one; returns the keys worth asking again: unnamed, or failed on for a moment. */
	perKeyAnswer(keys: readonly string[], verdicts: ReadonlyMap<string, KeyVerdict>, requestId?: string): string[] {
		const again: string[] = [];
		for (const key of keys) {
			const verdict = verdicts.get(key);
			if (!verdict) {
				this.answerLost([key], notReported(requestId));
				again.push(key);
			} else if (verdict.recalled) {
				this.tell(key, recalled(requestId));
			} else {
				this.tell(key, outcomeOfVerdict(verdict, requestId));
				if (verdict.kind === 'failed') again.push(key);
			}
		}
		return again;
	}

	readStatusShows(key: string, reading: StatusReading, requestId?: string): void {
		const record = this.record(key);
		record.readStatus = reading;
		if (reading === 'recalled') this.tell(key, recalled(requestId, 'readStatus'));
		if (reading === 'notRecalled') record.answerLost = false;
	}

	/** Not recalled, its read status not yet asked, and something the status could settle: a lost answer, an unexplained refusal. */
	needsReadStatus(key: string): boolean {
		const record = this.records.get(key);
		if (!record?.outcome || record.outcome.recalled || record.readStatus) return false;
		return record.answerLost || record.outcome.readStatusMaySettle;
	}

	/** DingTalk told something of the key already (or its answer was lost). */
	knows(key: string): boolean {
		const record = this.records.get(key);
		return record?.outcome !== undefined || record?.answerLost === true;
	}

	/** The key's outcome as the user sees it (`fallback` if DingTalk told nothing), its message saying what is open; `mayBeRecalled` though nothing confirmed it. */
	report(key: string, fallback: RecallOutcome): { outcome: RecallOutcome; mayBeRecalled: boolean } {
		const record = this.records.get(key) ?? { answerLost: false };
		const outcome = record.outcome ?? fallback;
		if (outcome.recalled) return { outcome, mayBeRecalled: false };
		let note: string | undefined;
		if (record.readStatus === 'notRecalled') note = STATUS_NOTES.notRecalled;
		else if (record.answerLost) note = record.readStatus === 'unavailable' ? STATUS_NOTES.unavailable : STATUS_NOTES.unchecked;
		return { outcome: note ? { ...outcome, errorMessage: `${outcome.errorMessage} ${note}` } : outcome, mayBeRecalled: record.answerLost };
	}

	/** What a stop after some recalls must say: the keys this run recalled, and how many more the status showed or may be gone. */
	summary(): { recalledByRun: string[]; confirmedByStatus: number; maybeRecalled: number } {
		const records = [...this.records];
		return {
			recalledByRun: records.filter(([, { outcome }]) => outcome?.recalled && outcome.by === 'call').map(([key]) => key),
			confirmedByStatus: records.filter(([, { outcome }]) => outcome?.recalled && outcome.by === 'readStatus').length,
			maybeRecalled: records.filter(([, { answerLost }]) => answerLost).length,
		};
	}
}
