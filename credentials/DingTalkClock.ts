import { sleep } from 'n8n-workflow';

/** Time as the credential and the node see it: token expiry, backoff and pacing all read and wait on one clock. */
export interface Clock {
	now: () => number;
	/** Waits `ms`; when `signal` aborts first, ends the wait at once and clears its timer. */
	wait: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const systemClock: Clock = {
	now: () => Date.now(),
	wait: async (ms, signal) => {
		// n8n 2.x clears the timer and rejects when the signal aborts (the stop is the caller's to see); 1.x lets the timer run out.
		await sleep(ms, signal).catch(() => {});
	},
};

let processClock: Clock = systemClock;

/** The clock new clients and pacers of this process use. */
export function currentClock(): Clock {
	return processClock;
}

/** Tests run the transport's timing on a simulated clock; n8n never calls this. */
export function useClock(clock: Clock): void {
	processClock = clock;
}

/** What `work` settles to, or `stopped` as soon as the execution is stopped (`work` goes on unwatched). */
export async function untilStopped<T>(work: Promise<T>, signal?: AbortSignal): Promise<T | 'stopped'> {
	if (!signal) return await work;
	if (signal.aborted) return 'stopped';
	let onAbort: () => void = () => {};
	const stopped = new Promise<'stopped'>((resolve) => {
		onAbort = () => resolve('stopped');
		signal.addEventListener('abort', onAbort, { once: true });
	});
	try {
		return await Promise.race([work, stopped]);
	} finally {
		signal.removeEventListener('abort', onAbort);
	}
}

/** Waits `ms`, or less if the execution is stopped meanwhile: the stop clears the wait's timer. */
export async function waitUnlessStopped(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
	await untilStopped(clock.wait(ms, signal), signal);
}
