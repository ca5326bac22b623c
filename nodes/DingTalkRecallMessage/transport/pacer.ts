import { sleep } from 'n8n-workflow';

/**
 * Paces the calls to one DingTalk API. It starts unlimited (organisations on paid plans have higher
 * limits than the standard 20 calls per second) and, on a throttling answer, learns the rate DingTalk
 * allows from how many calls it admitted in the last window; then it probes for more now and then.
 */
export class Pacer {
	/** The calls started in the current window, oldest first, numbered in start order. */
	private readonly starts: Array<{ ticket: number; at: number }> = [];

	private lastTicket = 0;

	private limit = Number.POSITIVE_INFINITY;

	private lastChange = 0;

	/** The last ticket handed out when the limit last changed. */
	private ticketAtChange = 0;

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

	/** Waits until one more call fits the learned rate; returns the call's ticket. */
	async acquire(): Promise<number> {
		for (;;) {
			const now = this.now();
			while (this.starts.length && this.starts[0].at <= now - this.windowMs) this.starts.shift();
			if (Number.isFinite(this.limit) && now - this.lastChange > this.probeAfterMs) {
				this.limit += 1;
				this.lastChange = now;
				this.ticketAtChange = this.lastTicket;
			}
			if (this.starts.length < this.limit) {
				this.starts.push({ ticket: ++this.lastTicket, at: now });
				return this.lastTicket;
			}
			await this.wait(Math.max(1, this.starts[0].at + this.windowMs - now));
		}
	}

	/** The call with this ticket was throttled: it was not admitted, and the rate is lower than assumed. */
	throttled(ticket: number): void {
		const index = this.starts.findIndex((start) => start.ticket === ticket);
		if (index >= 0) this.starts.splice(index, 1);
		// The calls still in the window that started before this one are what DingTalk admitted.
		const admittedBefore = this.starts.filter((start) => start.ticket < ticket).length;
		// A call started under the current limit and still throttled: the limit itself is too high.
		const ceiling = ticket > this.ticketAtChange ? this.limit - 1 : this.limit;
		this.limit = Math.max(1, Math.min(admittedBefore, ceiling));
		this.ticketAtChange = this.lastTicket;
		this.lastChange = this.now();
	}
}
