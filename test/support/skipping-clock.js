'use strict';
/**
 * A clock for engine tests whose point is not real time (pacing-simulation.js has the fully simulated one
 * the pacer's own tests use, where nothing real happens between timers): waits end at once, and the clock jumps ahead by what
 * they would have waited. Waits end in the order they are due; concurrent waits overlap as they would.
 * Real time still passes underneath (HTTP round trips, the server's latency), so `now()` is the real
 * time plus every skipped wait. The test server and the node read the same clock: DingTalk's rate
 * limit and token expiry see the skipped time too.
 */
class SkippingClock {
	constructor() {
		this.skipped = 0;
		this.timers = [];
		this.firing = false;
		this.sequence = 0;
		this.now = this.now.bind(this);
		this.wait = this.wait.bind(this);
	}

	now() {
		return Date.now() + this.skipped;
	}

	async wait(ms, signal) {
		await new Promise((resolve) => {
			if (signal?.aborted) return resolve();
			const timer = { due: this.now() + Math.max(0, ms), order: ++this.sequence, resolve };
			this.timers.push(timer);
			// As n8n's sleep does: an abort clears the timer and ends the wait at once.
			signal?.addEventListener(
				'abort',
				() => {
					const index = this.timers.indexOf(timer);
					if (index >= 0) this.timers.splice(index, 1);
					resolve();
				},
				{ once: true },
			);
			this.fireSoon();
		});
	}

	/** Moves the clock forward now, as if `ms` had passed (a token expiring, a pacer going idle). */
	advance(ms) {
		this.skipped += ms;
	}

	fireSoon() {
		if (this.firing) return;
		this.firing = true;
		setImmediate(() => {
			this.firing = false;
			if (!this.timers.length) return;
			this.timers.sort((a, b) => a.due - b.due || a.order - b.order);
			const next = this.timers.shift();
			const ahead = next.due - this.now();
			if (ahead > 0) this.skipped += ahead;
			next.resolve();
			if (this.timers.length) this.fireSoon();
		});
	}
}

module.exports = { SkippingClock };
