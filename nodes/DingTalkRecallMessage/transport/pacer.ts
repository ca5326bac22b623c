import { sleep } from 'n8n-workflow';

/**
 * Paces the calls to one DingTalk API. It starts unlimited (organisations on paid plans have higher
 * limits than the standard 20 calls per second) and, on a throttling answer, learns the rate DingTalk
 * allows from how many calls it admitted in the last window; then it probes for more now and then.
 */
export class Pacer {
	/** Start times of the admitted calls in the current window, oldest first. */
	private readonly starts: number[] = [];

	private limit = Number.POSITIVE_INFINITY;

	private lastChange = 0;

	constructor(
		/** A little over DingTalk's one-second window, so calls that arrive late do not break the limit. */
		private readonly windowMs = 1050,
		private readonly probeAfterMs = 10_000,
		private readonly now: () => number = Date.now,
		private readonly wait: (ms: number) => Promise<void> = sleep,
	) {}

	get callsPerWindow(): number {
		return this.limit;
	}

	/** Waits until one more call fits the learned rate; returns its start time. */
	async acquire(): Promise<number> {
		for (;;) {
			const now = this.now();
			while (this.starts.length && this.starts[0] <= now - this.windowMs) this.starts.shift();
			if (Number.isFinite(this.limit) && now - this.lastChange > this.probeAfterMs) {
				this.limit += 1;
				this.lastChange = now;
			}
			if (this.starts.length < this.limit) {
				this.starts.push(now);
				return now;
			}
			await this.wait(Math.max(1, this.starts[0] + this.windowMs - now));
		}
	}

	/** The call started at `startedAt` was throttled: it was not admitted, and the rate is lower than assumed. */
	throttled(startedAt: number): void {
		const index = this.starts.lastIndexOf(startedAt);
		if (index >= 0) this.starts.splice(index, 1);
		const admittedBefore = this.starts.filter(
			(start) => start < startedAt && start > startedAt - this.windowMs,
		).length;
		this.limit =
			admittedBefore < this.limit ? Math.max(1, admittedBefore) : Math.max(1, this.limit - 1);
		this.lastChange = this.now();
	}
}
