import { sleep } from 'n8n-workflow';

interface PacedCall {
	ticket: number;
	/** When DingTalk's answer came; unset while the call is in flight. */
	answeredAt?: number;
}

/**
 * Paces the calls to one DingTalk API. It starts unlimited (organisations on paid plans have higher
 * limits than the standard 20 calls per second) and, on a throttling answer, learns the rate DingTalk
 * allows from how many calls it admitted; then it probes for one more now and then.
 *
 * DingTalk counts the calls that arrive in each second. A call arrives after it starts and before it is
 * answered, so the pacer counts every call in flight plus every call answered in the last window: that
 * count never falls below DingTalk's, whatever the network's delays.
 */
export class Pacer {
	/** Calls in flight and calls answered within the window, in start order. */
	private readonly calls: PacedCall[] = [];

	private lastTicket = 0;

	private limit = Number.POSITIVE_INFINITY;

	private lastChange = 0;

	/** The last ticket handed out when the limit last changed. */
	private ticketAtChange = 0;

	/** Wakes the calls waiting for room when an answer comes in. */
	private answered?: { promise: Promise<void>; resolve: () => void };

	constructor(
		private readonly windowMs = 1000,
		private readonly probeAfterMs = 30_000,
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
			this.forgetOlderThan(now - this.windowMs);
			if (Number.isFinite(this.limit) && now - this.lastChange > this.probeAfterMs) {
				this.limit += 1;
				this.lastChange = now;
				this.ticketAtChange = this.lastTicket;
			}
			if (this.calls.length < this.limit) {
				this.calls.push({ ticket: ++this.lastTicket });
				return this.lastTicket;
			}
			const oldestAnswer = Math.min(...this.calls.map((call) => call.answeredAt ?? Number.POSITIVE_INFINITY));
			const untilRoom = Number.isFinite(oldestAnswer) ? oldestAnswer + this.windowMs - now : this.windowMs;
			this.answered ??= (() => {
				let resolve = () => {};
				const promise = new Promise<void>((done) => (resolve = done));
				return { promise, resolve };
			})();
			await Promise.race([this.wait(Math.max(1, untilRoom)), this.answered.promise]);
		}
	}

	/** DingTalk answered the call with this ticket, and admitted it. */
	admitted(ticket: number): void {
		const call = this.calls.find((candidate) => candidate.ticket === ticket);
		if (call) call.answeredAt = this.now();
		this.wakeWaiting();
	}

	/** The call with this ticket was throttled: it was not admitted, and the rate is lower than assumed. */
	throttled(ticket: number): void {
		const index = this.calls.findIndex((call) => call.ticket === ticket);
		if (index >= 0) this.calls.splice(index, 1);
		// The calls in the window that started before this one are what DingTalk admitted.
		const admittedBefore = this.calls.filter((call) => call.ticket < ticket).length;
		// A call started under the current limit and still throttled: the limit itself is too high.
		const ceiling = ticket > this.ticketAtChange ? this.limit - 1 : this.limit;
		this.limit = Math.max(1, Math.min(admittedBefore, ceiling));
		this.ticketAtChange = this.lastTicket;
		this.lastChange = this.now();
		this.wakeWaiting();
	}

	private forgetOlderThan(time: number): void {
		for (let index = this.calls.length - 1; index >= 0; index--) {
			const { answeredAt } = this.calls[index];
			if (answeredAt !== undefined && answeredAt <= time) this.calls.splice(index, 1);
		}
	}

	private wakeWaiting(): void {
		const waiting = this.answered;
		this.answered = undefined;
		waiting?.resolve();
	}
}
