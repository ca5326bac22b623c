import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import type { Clock } from '../../../credentials/DingTalkClock';
import { currentClock } from '../../../credentials/DingTalkClock';

/** DingTalk's limit on a standard plan: 20 calls per second per app per API. */
export const STANDARD_CALLS_PER_SECOND = 20;

/** The longest pause between probes, in windows, while DingTalk keeps refusing them: at least, and at most. */
const MIN_LONGEST_PROBE_PAUSE = 3;
const MAX_LONGEST_PROBE_PAUSE = 16;

/** Probes a fresh pacer sends at once: on DingTalk's standard plan each one is refused, a throttled answer. */
const FIRST_PROBES = 2;

/**
 * Calls a fresh pacer lets go before DingTalk's first answer: each one admitted lets one more go, up to
 * the limit. Fresh workers starting together then overshoot DingTalk's limit by a round trip's calls,
 * not by a whole window each; a lone execution (5 parallel calls by default) never waits for it.
 */
const FIRST_CALLS = 5;

function firstProbes(limit: number): number {
	return Math.min(FIRST_PROBES, Math.ceil(limit / 4));
}

interface PacedCall {
	ticket: number;
	startedAt: number;
	/**
	 * Started above the limit, to find out whether DingTalk admits more. It stays a probe until it proves
	 * room (DingTalk admitted it and every call started before it) or proves nothing.
	 */
	probe: boolean;
	/**
	 * Where its place in the window starts once answered (unset while it is in flight): at its answer, or
	 * at its start when DingTalk refused it (then its repeat reaches DingTalk before the call that took its
	 * room comes round again).
	 */
	countedFrom?: number;
	/** DingTalk refused it. */
	throttled?: boolean;
	/** The stop cut it short on its way: DingTalk may have counted it, but said nothing. */
	cutShort?: boolean;
	/** A probe on its way when a call started before it was refused or cut short: it may have taken that call's room. */
	overtook?: boolean;
}

/**
 * A pacer left idle this long has learned nothing that still holds (another process may have stopped, or
 * started): it begins again at the standard rate, and probes from there.
 */
export const PACER_AGES_AFTER_MS = 60_000;

/**
 * Paces the calls to one DingTalk API of one app, for every execution in the process: calls get their
 * turns in the order they asked, whichever execution they come from.
 *
 * DingTalk counts the calls it admits in each second. A call arrives after it starts and before it is
 * answered, so the pacer counts every call in flight plus every call answered in the last window: that
 * count never falls below DingTalk's, whatever the network's delays, so calls within the limit are
 * admitted unless something else (another process, a lower limit) uses the app too.
 *
 * The limit starts at DingTalk's standard rate, reached in a ramp: five calls before DingTalk's first
 * answer, one more for each admitted. While calls wait for room, two probes go above it;
 * each one that proves room (DingTalk admitted it, and every call started before it) raises the limit
 * by one and lets one more probe go, so the limit doubles every round trip while DingTalk admits more
 * (paid plans, or another process that stopped). A refused probe stops probing for a window, and each
 * refused probe after it doubles the pause, up to as many windows as the standard rate is to the pacer's
 * share (3 to 16): many processes sharing an app probe about once a window between them; a refused probe
 * also brings a share above an even split back to it. A refused call within the limit means others use
 * the app too: the limit drops to what DingTalk admitted of this pacer's calls, its share, and the call
 * holds its place from its start. Processes sharing an app converge this way to DingTalk's limit between
 * them, in even shares, with no coordination but DingTalk's answers.
 */
export class Pacer {
	/** Calls in flight and calls answered within the window, in start order. */
	private readonly calls: PacedCall[] = [];

	/** Calls waiting for room, first come first served. */
	private readonly waiting: Array<(ticket: number) => void> = [];

	/** When a call last asked for a turn or was answered. */
	private lastActive: number;

	private lastTicket = 0;

	private limit: number;

	/** How many probes may be unsettled (in flight, or admitted with earlier calls still in flight) at once. */
	private probes: number;

	/**
	 * No call has been refused since a probe last proved room (or since the start): probes may go while
	 * calls within the limit are on their way.
	 */
	private climbing = true;

	/** No probe before this time: DingTalk refused a call lately. */
	private probeFrom = 0;

	/** Windows to wait before the next probe: doubles with each refused probe, up to the longest pause. */
	private probePause = 1;

	/** While below the limit, how many calls may be in the window: the ramp of a fresh pacer; ended by a refusal. */
	private ramp: number;

	/** When the pacer will look for room again, if calls wait for time to pass; cancelled once none waits. */
	private wake?: { at: number; cancel: AbortController };

	constructor(
		private readonly startLimit = STANDARD_CALLS_PER_SECOND,
		private readonly windowMs = 1000,
		private readonly clock: Clock = currentClock(),
		private readonly firstCalls = FIRST_CALLS,
	) {
		this.limit = startLimit;
		this.ramp = firstCalls;
		this.probes = firstProbes(startLimit);
		this.lastActive = clock.now();
	}

	get callsPerWindow(): number {
		return this.limit;
	}

	/** No call waits, none is in flight, and none was answered for `ms`. */
	idleFor(ms: number): boolean {
		return !this.waiting.length && this.calls.every(answered) && this.clock.now() - this.lastActive >= ms;
	}

	/**
	 * Waits for this call's turn and for room under the limit; returns the call's ticket. When `signal`
	 * aborts first (the execution was stopped), the call leaves the queue and gets no ticket.
	 */
	async acquire(signal?: AbortSignal): Promise<number | undefined> {
		if (signal?.aborted) return undefined;
		if (this.idleFor(PACER_AGES_AFTER_MS)) this.startAfresh();
		this.lastActive = this.clock.now();
		return await new Promise<number | undefined>((resolve) => {
			const onAbort = () => {
				const index = this.waiting.indexOf(start);
				if (index >= 0) this.waiting.splice(index, 1);
				resolve(undefined);
				this.serve();
			};
			const start = (ticket: number) => {
				signal?.removeEventListener('abort', onAbort);
				resolve(ticket);
			};
			signal?.addEventListener('abort', onAbort, { once: true });
			this.waiting.push(start);
			this.serve();
		});
	}

	/** DingTalk answered the call with this ticket, and admitted it. */
	admitted(ticket: number): void {
		// The ramp ends where the limit begins: from there on, probes look for more.
		this.ramp = this.ramp + 1 >= this.limit ? Number.POSITIVE_INFINITY : this.ramp + 1;
		const call = this.calls.find((candidate) => candidate.ticket === ticket);
		this.lastActive = this.clock.now();
		if (call) call.countedFrom = this.lastActive;
		this.settleProbes();
		this.serve();
	}

	/**
	 * The call with this ticket never got DingTalk's word (the execution was stopped, or no token could be
	 * had): it leaves the pacer's count and teaches it nothing.
	 */
	abandon(ticket: number): void {
		const index = this.calls.findIndex((candidate) => candidate.ticket === ticket);
		if (index >= 0) this.calls.splice(index, 1);
		this.settleProbes();
		this.serve();
	}

	/**
	 * The stop cut the call with this ticket short while it was on its way: DingTalk may have counted it, so
	 * it keeps its place in the window, but it proves nothing, neither room nor a refusal.
	 */
	cutShort(ticket: number): void {
		const call = this.calls.find((candidate) => candidate.ticket === ticket);
		if (call) {
			call.countedFrom = this.clock.now();
			call.cutShort = true;
			call.probe = false;
			this.probesOvertaking(call);
		}
		this.settleProbes();
		this.serve();
	}

	/** Back to DingTalk's standard rate, as a new pacer. */
	private startAfresh(): void {
		this.limit = this.startLimit;
		this.probes = firstProbes(this.startLimit);
		this.ramp = this.firstCalls;
		this.climbing = true;
		this.probeFrom = 0;
		this.probePause = 1;
	}

	/**
	 * The call with this ticket was throttled: DingTalk had no room for it. Returns whether it was a probe:
	 * DingTalk then refused the pacer's try for more room, not the call, whose repeat needs no extra wait.
	 */
	throttled(ticket: number): boolean {
		const call = this.calls.find((candidate) => candidate.ticket === ticket);
		if (!call) return false;
		const now = this.clock.now();
		this.lastActive = now;
		if (call.probe) {
			// DingTalk did not count it. The app is full: a share above an even split gives the extra back.
			this.calls.splice(this.calls.indexOf(call), 1);
			this.limit = Math.min(this.limit, evenSplit(this.limit, this.startLimit));
		} else {
			// A call within the limit refused: others use the app too, or the limit is lower. This pacer's
			// share is what DingTalk admitted of its calls in the window (those in flight are counted until
			// they are refused too). The refused call keeps its place in the window from its start, so that
			// refusals never come faster than the limit, and its repeat reaches DingTalk a little before the
			// call that took its room comes round again: counted from the refusal, it would come just after
			// that call every window, refused each time, and this pacer would starve.
			call.countedFrom = call.startedAt;
			call.throttled = true;
			this.probesOvertaking(call);
			this.limit = Math.max(1, Math.min(this.limit, admittedShare(this.calls)));
		}
		this.probes = 1;
		this.ramp = Number.POSITIVE_INFINITY;
		this.climbing = false;
		this.probeFrom = now + this.probePause * this.windowMs;
		if (call.probe) this.probePause = Math.min(this.longestProbePause(), this.probePause * 2);
		this.settleProbes();
		this.serve();
		return call.probe;
	}

	/**
	 * As many windows as DingTalk's standard rate is to this pacer's share (3 to 16): a pacer with a small
	 * share is likely one of many processes probing the same app, and together they probe about once a window.
	 */
	private longestProbePause(): number {
		return Math.min(MAX_LONGEST_PROBE_PAUSE, Math.max(MIN_LONGEST_PROBE_PAUSE, Math.ceil(this.startLimit / this.limit)));
	}

	/**
	 * The probes started before `call` got its answer (refused, or cut short): overtaking it on the way to
	 * DingTalk, they may have taken its room, so they prove nothing, whenever their own answer comes.
	 */
	private probesOvertaking(call: PacedCall): void {
		for (const probe of this.calls) if (probe.probe && probe.ticket > call.ticket) probe.overtook = true;
	}

	/** A probe DingTalk admitted proves room once every call started before it is admitted too, unless it overtook one that was not. */
	private settleProbes(): void {
		for (const probe of this.calls) {
			if (!probe.probe || !answered(probe)) continue;
			if (probe.overtook) {
				probe.probe = false;
			} else if (this.calls.every((call) => call.ticket > probe.ticket || call.probe || answered(call))) {
				probe.probe = false;
				this.limit++;
				this.probes++;
				this.probePause = 1;
				this.climbing = true;
			}
		}
	}

	/** Starts waiting calls while there is room, in the order they asked. */
	private serve(): void {
		const now = this.clock.now();
		this.forgetAnsweredBy(now);
		while (this.waiting.length) {
			if (this.calls.length >= this.ramp) break;
			const probe = this.calls.length >= this.limit;
			if (probe && !this.mayProbe(now)) break;
			this.calls.push({ ticket: ++this.lastTicket, startedAt: now, probe });
			this.waiting.shift()!(this.lastTicket);
		}
		if (this.waiting.length) this.wakeWhenRoom(now);
		else this.cancelWake();
	}

	private mayProbe(now: number): boolean {
		if (now < this.probeFrom) return false;
		// After a refusal, the first probe goes once every call within the limit has its answer: then it
		// cannot overtake one of them on the way to DingTalk and have it refused in its place.
		if (!this.climbing && this.calls.some((call) => !call.probe && !answered(call))) return false;
		const unsettled = this.calls.filter((call) => call.probe).length;
		return unsettled < Math.min(this.probes, Math.ceil(this.limit / 4));
	}

	/** Room comes when an answer comes in, or when the oldest answered call leaves the window. */
	private wakeWhenRoom(now: number): void {
		let oldest = Number.POSITIVE_INFINITY;
		for (const call of this.calls) if (call.countedFrom !== undefined) oldest = Math.min(oldest, call.countedFrom);
		if (!Number.isFinite(oldest)) return;
		const at = oldest + this.windowMs;
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

	/** No call waits any more (served, or stopped): no timer is left running for them. */
	private cancelWake(): void {
		this.wake?.cancel.abort();
		this.wake = undefined;
	}

	/** Forgets the answered calls that left the window by `now`, computed as the wake computes it (exact with fractional times). */
	private forgetAnsweredBy(now: number): void {
		for (let index = this.calls.length - 1; index >= 0; index--) {
			const { countedFrom } = this.calls[index];
			if (countedFrom !== undefined && countedFrom + this.windowMs <= now) this.calls.splice(index, 1);
		}
	}
}

/**
 * The most a pacer with this share keeps when DingTalk refuses its probe: an even split of the standard
 * rate among as many pacers as the share suggests (11 of 20: two, so 10), so that pacers sharing an app
 * end up with even shares and their executions finish together. Paid plans' shares above it are kept.
 */
function evenSplit(share: number, standard: number): number {
	return share < standard ? Math.ceil(standard / Math.round(standard / share)) : share;
}

/** DingTalk answered the call (or the stop cut it short): it has its place in the window. */
function answered(call: PacedCall): boolean {
	return call.countedFrom !== undefined;
}

/**
 * What DingTalk admitted of these calls, counting those in flight within the limit until it refuses
 * them too: the pacer's share of the app's limit when other processes use the app as well.
 */
function admittedShare(calls: readonly PacedCall[]): number {
	return calls.filter((call) => !call.throttled && !(call.probe && !answered(call))).length;
}

/** The app DingTalk counts a credential's calls against: its client ID, or suite key and corp ID; never a secret. */
export function appIdentity(credentials: ICredentialDataDecryptedObject): string {
	return credentials.appType === 'thirdParty'
		? `suite ${String(credentials.suiteKey)} corp ${String(credentials.authCorpId)}`
		: `app ${String(credentials.clientId)}`;
}

/** A pacer idle this long is forgotten: apps and test servers come and go in a long-lived n8n process. */
export const PACER_FORGOTTEN_AFTER_MS = 10 * 60_000;

/** One pacer per DingTalk app, host and API in this n8n process, shared by every execution that runs here. */
const pacers = new Map<string, Pacer>();

/** When the pacers were last looked over for idle ones. */
let lastSweep = 0;

/**
 * The pacer for calls of the app `appIdentity` to `url` (base URL and path: two hosts or test servers
 * never share one). n8n loads a node's module once per process, so every execution of the process shares it.
 */
export function sharedPacer(appIdentity: string, url: string): Pacer {
	// Every call asks for its pacer: look for idle ones once a minute (or when the clock was set back), not on every call.
	const now = currentClock().now();
	if (Math.abs(now - lastSweep) >= PACER_AGES_AFTER_MS) {
		lastSweep = now;
		for (const [key, idle] of pacers) if (idle.idleFor(PACER_FORGOTTEN_AFTER_MS)) pacers.delete(key);
	}
	const key = `${appIdentity} ${url}`;
	let pacer = pacers.get(key);
	if (!pacer) pacers.set(key, (pacer = new Pacer()));
	return pacer;
}

/** How many pacers this process keeps (tests of forgetting read it). */
export function sharedPacerCount(): number {
	return pacers.size;
}
