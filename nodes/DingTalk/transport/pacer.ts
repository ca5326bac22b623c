import type { Clock } from '../../../credentials/DingTalkClock';

/** How a pacer starts: DingTalk's standard plan admits 20 calls per second per app and API. */
export interface PaceSettings {
	callsPerWindow: number;
	windowMs: number;
	/** Calls a fresh pacer lets go before DingTalk's first answer: fresh workers starting together overshoot by a round trip's calls. */
	firstCalls: number;
}

export const STANDARD_PACE: PaceSettings = { callsPerWindow: 20, windowMs: 1000, firstCalls: 5 };

/** A pacer left idle this long starts again at the standard rate: another process may have stopped, or started. */
export const PACER_AGES_AFTER_MS = 60_000;

/** What DingTalk's answer to a paced call tells the pacer: `cutShort` (by the stop) may have been counted, `neverSent` was not. */
export type Hearing = 'admitted' | 'throttled' | 'cutShort' | 'neverSent';

/** Where the pacer stands; its phases and moves: docs/core.md, "The pacer" (the algorithm: docs/queue-mode.md). */
export type Phase =
	| { name: 'ramp'; calls: number }
	| { name: 'climbing'; probes: number; probeFrom: number }
	| { name: 'holding'; probes: 1; probeFrom: number; pause: number };

interface PacedCall {
	ticket: number;
	startedAt: number;
	/** Started above the limit; it stays a probe until it proves room or proves nothing. */
	probe: boolean;
	/** Where its place in the window starts, once answered: its answer, or its start when refused. */
	countedFrom?: number;
	throttled?: boolean;
	/** A probe on its way when an earlier call was refused or cut short: it may have taken that call's room. */
	overtook?: boolean;
}

/** The longest pause between refused probes, in windows: as many as the standard rate is to the share, 3 to 16. */
const SHORTEST_LONGEST_PAUSE = 3;
const LONGEST_LONGEST_PAUSE = 16;

/** Paces one app's calls to one API, first come first served, under the share of DingTalk's limit its answers teach. */
export class Pacer {
	phase: Phase;

	/** Calls in the window: in flight, or answered less than a window ago; in start order. */
	private readonly calls: PacedCall[] = [];
	private readonly waiting: Array<(ticket: number) => void> = [];
	/** The calls per window the pacer allows now: its share of DingTalk's limit, as far as it learned it. */
	callsPerWindow: number;
	private lastTicket = 0;
	private lastActive: number;
	private wake?: { at: number; cancel: AbortController };

	constructor(
		private readonly clock: Clock,
		private readonly settings: PaceSettings = STANDARD_PACE,
	) {
		this.callsPerWindow = settings.callsPerWindow;
		this.phase = this.fresh();
		this.lastActive = clock.now();
	}

	/** No call waits or is in flight, and none was answered for `ms`. */
	idleFor(ms: number): boolean {
		return !this.waiting.length && this.calls.every(answered) && this.clock.now() - this.lastActive >= ms;
	}

	/** Waits for the call's turn and room under the limit; no ticket once `signal` aborts (the call leaves the queue). */
	async acquire(signal?: AbortSignal): Promise<number | undefined> {
		if (signal?.aborted) return undefined;
		if (this.idleFor(PACER_AGES_AFTER_MS)) this.startAfresh();
		this.lastActive = this.clock.now();
		return await new Promise<number | undefined>((resolve) => {
			const start = (ticket: number) => {
				signal?.removeEventListener('abort', leave);
				resolve(ticket);
			};
			const leave = () => {
				const index = this.waiting.indexOf(start);
				if (index >= 0) this.waiting.splice(index, 1);
				resolve(undefined);
				this.serve();
			};
			signal?.addEventListener('abort', leave, { once: true });
			this.waiting.push(start);
			this.serve();
		});
	}

	/** What DingTalk's answer to the call with this ticket says; returns whether DingTalk refused a probe (not the call: its repeat needs no wait). */
	heard(ticket: number, hearing: Hearing): boolean {
		const call = this.calls.find((candidate) => candidate.ticket === ticket);
		const now = this.clock.now();
		let probeRefused = false;
		if (hearing === 'admitted') {
			const { phase } = this;
			if (phase.name === 'ramp') this.phase = phase.calls + 1 >= this.callsPerWindow ? this.climbing(now) : { name: 'ramp', calls: phase.calls + 1 };
			this.lastActive = now;
			if (call) call.countedFrom = now;
		} else if (!call) {
			// Forgotten already: nothing to learn.
		} else if (hearing === 'neverSent') {
			this.calls.splice(this.calls.indexOf(call), 1);
		} else if (hearing === 'cutShort') {
			this.overtaken(call, { countedFrom: now, probe: false });
		} else {
			this.lastActive = now;
			probeRefused = this.refused(call, now);
		}
		this.settleProbes();
		this.serve();
		return probeRefused;
	}

	/** Out of the ramp: the first probes may go. */
	private climbing(probeFrom: number): Phase {
		return { name: 'climbing', probes: Math.min(2, Math.ceil(this.settings.callsPerWindow / 4)), probeFrom };
	}

	private startAfresh(): void {
		this.callsPerWindow = this.settings.callsPerWindow;
		this.phase = this.fresh();
	}

	/** A fresh pacer ramps up to the limit, unless its first calls reach it already. */
	private fresh(): Phase {
		const { firstCalls, callsPerWindow } = this.settings;
		return firstCalls < callsPerWindow ? { name: 'ramp', calls: firstCalls } : this.climbing(0);
	}

	/** DingTalk had no room for `call`; returns whether it was a probe. */
	private refused(call: PacedCall, now: number): boolean {
		const pause = this.phase.name === 'holding' ? this.phase.pause : 1;
		if (call.probe) {
			// The app is full: DingTalk did not count the probe, and a share above an even split gives the extra back.
			this.calls.splice(this.calls.indexOf(call), 1);
			this.callsPerWindow = Math.min(this.callsPerWindow, evenSplit(this.callsPerWindow, this.settings.callsPerWindow));
		} else {
			// Others use the app too: the share is what DingTalk admitted; the refused call holds its place from its start.
			this.overtaken(call, { countedFrom: call.startedAt, throttled: true });
			this.callsPerWindow = Math.max(1, Math.min(this.callsPerWindow, admittedShare(this.calls)));
		}
		const longest = Math.min(LONGEST_LONGEST_PAUSE, Math.max(SHORTEST_LONGEST_PAUSE, Math.ceil(this.settings.callsPerWindow / this.callsPerWindow)));
		this.phase = { name: 'holding', probes: 1, probeFrom: now + pause * this.settings.windowMs, pause: call.probe ? Math.min(longest, pause * 2) : pause };
		return call.probe;
	}

	/** `call` got an answer that is not room; probes that overtook it on the way may have taken its room and prove nothing. */
	private overtaken(call: PacedCall, answer: Partial<PacedCall>): void {
		Object.assign(call, answer);
		for (const probe of this.calls) if (probe.probe && probe.ticket > call.ticket) probe.overtook = true;
	}

	/** An admitted probe proves room once every call started before it is admitted too. */
	private settleProbes(): void {
		for (const probe of this.calls) {
			if (!probe.probe || !answered(probe)) continue;
			if (probe.overtook) {
				probe.probe = false;
			} else if (this.calls.every((call) => call.ticket > probe.ticket || call.probe || answered(call))) {
				probe.probe = false;
				this.callsPerWindow++;
				const { phase } = this;
				if (phase.name !== 'ramp') this.phase = { name: 'climbing', probes: phase.probes + 1, probeFrom: phase.probeFrom };
			}
		}
	}

	/** Starts waiting calls while there is room, in the order they asked. */
	private serve(): void {
		const now = this.clock.now();
		for (let index = this.calls.length - 1; index >= 0; index--) {
			const { countedFrom } = this.calls[index];
			if (countedFrom !== undefined && countedFrom + this.settings.windowMs <= now) this.calls.splice(index, 1);
		}
		while (this.waiting.length) {
			if (this.phase.name === 'ramp' && this.calls.length >= this.phase.calls) break;
			const probe = this.calls.length >= this.callsPerWindow;
			if (probe && !this.mayProbe(now)) break;
			this.calls.push({ ticket: ++this.lastTicket, startedAt: now, probe });
			this.waiting.shift()!(this.lastTicket);
		}
		if (this.waiting.length) this.wakeWhenRoom(now);
		else this.cancelWake();
	}

	private mayProbe(now: number): boolean {
		const { phase } = this;
		if (phase.name === 'ramp' || now < phase.probeFrom) return false;
		// After a refusal, a probe waits for every call within the limit: then it cannot take one's room.
		if (phase.name === 'holding' && this.calls.some((call) => !call.probe && !answered(call))) return false;
		const unsettled = this.calls.filter((call) => call.probe).length;
		return unsettled < Math.min(phase.probes, Math.ceil(this.callsPerWindow / 4));
	}

	/** Room comes with an answer, or when the oldest answered call leaves the window. */
	private wakeWhenRoom(now: number): void {
		const oldest = Math.min(...this.calls.map((call) => call.countedFrom ?? Number.POSITIVE_INFINITY));
		if (!Number.isFinite(oldest)) return;
		const at = oldest + this.settings.windowMs;
		if (this.wake && this.wake.at <= at) return;
		this.cancelWake();
		const wake = { at, cancel: new AbortController() };
		this.wake = wake;
		void this.clock.wait(at - now, wake.cancel.signal).then(() => {
			if (wake.cancel.signal.aborted) return;
			this.wake = undefined;
			this.serve();
		});
	}

	private cancelWake(): void {
		this.wake?.cancel.abort();
		this.wake = undefined;
	}
}

/** An even split of the standard rate among as many pacers as a share suggests (11 of 20: two, so 10); paid plans' shares above it are kept. */
function evenSplit(share: number, standard: number): number {
	return share < standard ? Math.ceil(standard / Math.round(standard / share)) : share;
}

function answered(call: PacedCall): boolean {
	return call.countedFrom !== undefined;
}

/** What DingTalk admitted of these calls, counting those in flight within the limit until it refuses them too. */
function admittedShare(calls: readonly PacedCall[]): number {
	return calls.filter((call) => !call.throttled && !(call.probe && !answered(call))).length;
}
