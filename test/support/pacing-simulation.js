'use strict';
/**
 * A simulated clock and DingTalk for the pacer's own tests: time moves only from one timer to the next,
 * so seconds of pacing run in milliseconds, and the same run gives the same counts every time.
 */

class SimulatedClock {
	constructor(start = 1_000_000) {
		this.time = start;
		this.timers = [];
		this.now = () => this.time;
		this.order = 0;
		this.wait = (ms, signal) =>
			new Promise((resolve) => {
				if (signal?.aborted) return resolve();
				const timer = { at: this.time + Math.max(0, ms), resolve, order: ++this.order };
				this.timers.push(timer);
				// As n8n's sleep does: an abort clears the timer and ends the wait at once.
				signal?.addEventListener('abort', () => this.clear(timer), { once: true });
			});
	}

	/** Timers still waiting to fire, the latest due first. */
	pending() {
		return this.timers.map((timer) => timer.at - this.time).sort((a, b) => b - a);
	}

	clear(timer) {
		const index = this.timers.indexOf(timer);
		if (index < 0) return;
		this.timers.splice(index, 1);
		timer.resolve();
	}

	/** Runs timers in time order, letting every promise settle after each, until none are left (or `mostTimers` ran: then it throws). */
	async run({ mostTimers = 1_000_000 } = {}) {
		await settle();
		for (let ran = 0; this.timers.length; ran++) {
			if (ran >= mostTimers) throw new Error(`timers still waiting after ${mostTimers}: something waits for ever`);
			this.timers.sort((a, b) => a.at - b.at || a.order - b.order);
			const timer = this.timers.shift();
			this.time = Math.max(this.time, timer.at);
			timer.resolve();
			await settle();
		}
	}
}

function settle() {
	return new Promise((resolve) => setImmediate(resolve));
}

/** Mulberry32: the same numbers for the same seed. */
function seededRandom(seed) {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** DingTalk's per-app, per-API limit: a sliding one-second window of admitted calls, as the test server models it. */
class SimulatedDingTalk {
	constructor(clock, { callsPerSecond = 20, latencyMs = 30, jitterMs = 5, seed = 1 } = {}) {
		this.clock = clock;
		this.callsPerSecond = callsPerSecond;
		this.latencyMs = latencyMs;
		this.jitterMs = jitterMs;
		this.random = seededRandom(seed);
		this.admittedAt = [];
		this.admitted = 0;
		this.throttled = 0;
	}

	/** One call: true when DingTalk admitted it, false when it was throttled. */
	async call() {
		// Calls reach DingTalk a little out of the order they started in, as they do over the network.
		await this.clock.wait(this.latencyMs + this.random() * this.jitterMs);
		const now = this.clock.now();
		this.admittedAt = this.admittedAt.filter((at) => at > now - 1000);
		if (this.admittedAt.length >= this.callsPerSecond) {
			this.throttled++;
			return false;
		}
		this.admittedAt.push(now);
		this.admitted++;
		return true;
	}
}

/**
 * One execution of the node as far as pacing goes: `calls` calls, `concurrency` at a time, each through
 * `pacer`, a throttled call repeated until admitted, as the node's client does: the first time through
 * the pacer, then after a growing wait (`backoff`). Resolves to when it finished.
 */
async function execution({ clock, pacer, dingTalk, calls, concurrency = 5, backoff = false }) {
	let next = 0;
	const lanes = Array.from({ length: Math.min(concurrency, calls) }, async () => {
		while (next < calls) {
			next++;
			for (let throttles = 0; ; ) {
				if (backoff && throttles > 1) await clock.wait(Math.min(8000, 1000 * 2 ** (throttles - 1)) * (0.5 + dingTalk.random() / 2));
				const ticket = await pacer.acquire();
				if (await dingTalk.call()) {
					pacer.heard(ticket, 'admitted');
					break;
				}
				// A refused probe is the pacer's try for more room, not the call's throttle: no backoff for it.
				if (!pacer.heard(ticket, 'throttled')) throttles++;
			}
		}
	});
	await Promise.all(lanes);
	return clock.now();
}

/**
 * A storm: one pacer per worker (an n8n process), all sharing one simulated DingTalk; `workers` lists,
 * for each worker, the calls of each of its executions, all started at once. Workers start `stagger` ms
 * apart, as workers picking up one incident never start together. Returns how long each execution took,
 * the slowest against the floor DingTalk's limit allows, DingTalk's counts, and the seconds (from the
 * start) in which DingTalk refused a call of each worker.
 */
async function storm({ workers, callsPerSecond = 20, backoff = true, seed = 1, stagger = 0, jitterMs, Pacer }) {
	const clock = new SimulatedClock();
	const dingTalk = new SimulatedDingTalk(clock, { callsPerSecond, seed, jitterMs });
	const started = clock.now();
	const pacers = workers.map(() => new Pacer(clock));
	const refusedIn = pacers.map(() => new Set());
	const runs = pacers.flatMap((pacer, index) => {
		const seenBy = {
			random: dingTalk.random,
			call: async () => {
				const admitted = await dingTalk.call();
				if (!admitted) refusedIn[index].add(Math.floor((clock.now() - started) / 1000));
				return admitted;
			},
		};
		return workers[index].map(async (calls) => {
			await clock.wait(index * stagger);
			return await execution({ clock, pacer, dingTalk: seenBy, calls, backoff });
		});
	});
	const finished = Promise.all(runs);
	await clock.run();
	const durations = (await finished).map((end) => end - started);
	const total = workers.flat().reduce((sum, calls) => sum + calls, 0);
	const floorMs = (Math.ceil(total / callsPerSecond) - 1) * 1000 + dingTalk.latencyMs;
	return { durations, slowest: Math.max(...durations) / floorMs, dingTalk, pacers, total, refusedIn };
}

/** `count` workers, each running `executions` executions of `calls` calls: the `workers` of a storm. */
function evenWorkers(count, executions, calls) {
	return Array.from({ length: count }, () => Array(executions).fill(calls));
}

module.exports = { SimulatedClock, SimulatedDingTalk, execution, storm, evenWorkers };
