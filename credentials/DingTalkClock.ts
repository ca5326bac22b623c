import * as n8nWorkflow from 'n8n-workflow';

/** Time as the credential and the node see it: token expiry, backoff and pacing all read and wait on one clock. */
export interface Clock {
	now: () => number;
	/** Waits `ms`; when `signal` aborts first, ends the wait at once and clears its timer. */
	wait: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** n8n-workflow's waits: `sleep` (in 2.x it takes a signal), and in 1.x `sleepWithAbort` (1.x's `sleep` ignores the signal). */
export interface Sleeps {
	sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
	sleepWithAbort?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** A wait that ends, its timer cleared, when `signal` aborts, on n8n 2.x and 1.x alike. */
export function waitOn({ sleep, sleepWithAbort }: Sleeps): Clock['wait'] {
	return async (ms, signal) => {
		// 2.x clears the timer and rejects when the signal aborts (the stop is the caller's to see).
		if (!signal || !sleepWithAbort) return await sleep(ms, signal).catch(() => {});
		if (signal.aborted) return;
		// 1.x leaves its listener on the signal it is given: a signal of this wait's own keeps the execution's clean.
		const own = new AbortController();
		const abort = () => own.abort();
		signal.addEventListener('abort', abort, { once: true });
		try {
			await sleepWithAbort(ms, own.signal).catch(() => {});
		} finally {
			signal.removeEventListener('abort', abort);
		}
	};
}

/** The clock n8n runs the node on; tests hand the credential and the node a simulated one instead. */
export const systemClock: Clock = {
	now: () => Date.now(),
	wait: waitOn(n8nWorkflow as Sleeps),
};

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
