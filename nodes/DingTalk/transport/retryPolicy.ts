import type { Answer } from '../../../credentials/DingTalkAnswers';
import type { Clock } from '../../../credentials/DingTalkClock';
import { waitUnlessStopped } from '../../../credentials/DingTalkClock';

export interface RetrySettings {
	/** Repeats after a passing fault (5xx, timeout, dropped connection, a body that is not DingTalk's). */
	maxRetries: number;
	/** First wait after a fault, in milliseconds; doubles with each repeat. */
	retryDelayMs: number;
}

/** The longest wait between repeats, whatever Retry Delay says. */
export const MAX_WAIT_MS = 8_000;

/** Repeats after a throttling answer, each after a growing wait: DingTalk's limits pass within seconds. */
const MAX_THROTTLE_RETRIES = 8;

/** The longest wait an IP ban's own `wait` may ask for. */
const MAX_HINTED_WAIT_MS = 30_000;

/** Full jitter: somewhere between half and all of an exponentially growing wait. */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
	const ceiling = Math.min(MAX_WAIT_MS, baseMs * 2 ** Math.max(0, attempt - 1));
	return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** How often one call was repeated so far, by reason. */
export type Repeats = { faults: number; throttles: number };

/** When to repeat a call, and how long to wait first: faults within Retries, throttling a few times more, never after the stop. */
export class RetryPolicy {
	constructor(
		readonly settings: RetrySettings,
		private readonly clock: Clock,
		private readonly signal?: AbortSignal,
	) {}

	get stopped(): boolean {
		return this.signal?.aborted === true;
	}

	/** The wait before the `attempt`-th repeat after a passing fault. */
	async waitBeforeRepeat(attempt: number): Promise<void> {
		await waitUnlessStopped(this.clock, backoffMs(attempt, this.settings.retryDelayMs), this.signal);
	}

	/** Waits before `answer` is repeated, or false; `onlyUnsent` (a send): only throttled or never connected. */
	async waitToRepeat(answer: Answer, repeats: Repeats, onlyUnsent = false): Promise<boolean> {
		if (this.stopped) return false;
		if (answer.kind === 'throttled' && repeats.throttles < MAX_THROTTLE_RETRIES) {
			repeats.throttles++;
			// Over the per-second limit once: the pacer has learned the rate and holds the repeat until there is room.
			if (repeats.throttles === 1 && answer.perSecond) return true;
			const hinted = answer.waitSeconds ? Math.min(answer.waitSeconds * 1000, MAX_HINTED_WAIT_MS) : 0;
			await waitUnlessStopped(this.clock, Math.max(hinted, backoffMs(repeats.throttles, 1000)), this.signal);
			return true;
		}
		const fault = onlyUnsent ? answer.kind === 'failed' && answer.code === 'network' : answer.kind === 'failed' || answer.kind === 'lost';
		if (fault && repeats.faults < this.settings.maxRetries) {
			repeats.faults++;
			await this.waitBeforeRepeat(repeats.faults);
			return true;
		}
		return false;
	}

	/** Sends until the answer is final: ok, refused, a configuration error, the stop, or a fault that outlasted the repeats. */
	async run(send: () => Promise<Answer>, onlyUnsent = false): Promise<Answer> {
		const repeats: Repeats = { faults: 0, throttles: 0 };
		for (;;) {
			const answer = await send();
			if (!(await this.waitToRepeat(answer, repeats, onlyUnsent))) return answer;
		}
	}
}
