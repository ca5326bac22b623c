import type { Clock } from '../../../credentials/DingTalkClock';
import { waitUnlessStopped } from '../../../credentials/DingTalkClock';
import type { Answer } from '../../../credentials/DingTalkAnswers';
import { isPerSecondLimit } from '../../../credentials/DingTalkAnswers';

export interface RetrySettings {
	/** Repeats after a passing fault (5xx, timeout, dropped connection, a body that is not JSON). */
	maxRetries: number;
	/** Repeats after a throttling answer, each after a growing wait. */
	maxThrottleRetries: number;
	/** First wait after a fault, in milliseconds; doubles with each repeat. */
	retryDelayMs: number;
}

const MAX_WAIT_MS = 8_000;

/** The longest wait an IP ban's own `wait` may ask for. */
const MAX_HINTED_WAIT_MS = 30_000;

/** Full jitter: somewhere between half and all of an exponentially growing wait. */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
	const ceiling = Math.min(MAX_WAIT_MS, baseMs * 2 ** Math.max(0, attempt - 1));
	return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * When to repeat a call and how long to wait first: passing faults within Retries, throttling a few
 * times more, on the transport's clock, and never once the execution is stopped.
 */
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

	/** Sends until the answer is final: ok, refused, a configuration error, the stop, or a fault that outlasted the repeats. */
	async run(send: () => Promise<Answer>): Promise<Answer> {
		let faults = 0;
		let throttles = 0;
		let refusedProbes = 0;
		for (;;) {
			const answer = await send();
			if (this.stopped) return answer;
			// The pacer's try for more room was refused, not the call: repeated at once, in its turn (only
			// over the per-second limit; a ban, a busy DingTalk or a per-minute limit is waited out as ever).
			if (answer.kind === 'throttled' && answer.probeRefused && isPerSecondLimit(answer.code) && refusedProbes < this.settings.maxThrottleRetries) {
				refusedProbes++;
				continue;
			}
			if (answer.kind === 'throttled' && throttles < this.settings.maxThrottleRetries) {
				throttles++;
				// Over the per-second limit once: the pacer has learned the rate and holds the repeat until
				// there is room. Anything else (busy, banned, per-minute limits, again and again): back off.
				if (!(throttles === 1 && isPerSecondLimit(answer.code))) {
					const hinted = answer.waitSeconds ? Math.min(answer.waitSeconds * 1000, MAX_HINTED_WAIT_MS) : 0;
					await waitUnlessStopped(this.clock, Math.max(hinted, backoffMs(throttles, 1000)), this.signal);
				}
				continue;
			}
			if ((answer.kind === 'failed' || answer.kind === 'lost') && faults < this.settings.maxRetries) {
				faults++;
				await this.waitBeforeRepeat(faults);
				continue;
			}
			return answer;
		}
	}
}
