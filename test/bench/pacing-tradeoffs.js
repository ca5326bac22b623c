'use strict';
/**
 * `npm run bench:pacing`: the pacing simulation's row of the trade-off table in docs/benchmark.md, for the
 * pacer as built. Change a setting in pacer.ts, build, and run it again to measure another row.
 *
 * Every worker has its own pacer (as queue-mode workers do), all share one simulated DingTalk at 20 calls
 * per second and 30 ms per call, on a simulated clock: the same seeds give the same figures every run.
 * "together": workers start at the same instant with 5 ms of network jitter, as in `npm test`;
 * "staggered": 20 ms apart with 20 ms of jitter, closer to the bench's real processes.
 */
const path = require('node:path');

const { Pacer } = require(path.resolve(__dirname, '../../dist/nodes/DingTalkRecallMessage/transport/pacer.js'));
const { SimulatedClock, SimulatedDingTalk, execution } = require('../support/pacing-simulation');

const START = 1_000_000;
const TOGETHER = { stagger: 0, jitterMs: 5 };
const STAGGERED = { stagger: 20, jitterMs: 20 };

function floorMs(calls) {
	return (Math.ceil(calls / 20) - 1) * 1000 + 30;
}

/** Workers with executions of these sizes (one array per worker); the slowest execution ÷ the floor, and the throttled share. */
async function storm(workers, seed, { stagger, jitterMs }) {
	const clock = new SimulatedClock(START);
	const dingTalk = new SimulatedDingTalk(clock, { seed, jitterMs });
	const runs = workers.flatMap((executions, index) => {
		const pacer = new Pacer(20, 1000, clock);
		return executions.map(async (calls) => {
			await clock.wait(index * stagger);
			return await execution({ clock, pacer, dingTalk, calls, backoff: true });
		});
	});
	const finished = Promise.all(runs);
	await clock.run();
	const total = workers.flat().reduce((sum, calls) => sum + calls, 0);
	return {
		slowest: (Math.max(...(await finished)) - START) / floorMs(total),
		throttled: dingTalk.throttled / (dingTalk.throttled + dingTalk.admitted),
		throttledCalls: dingTalk.throttled,
	};
}

/** `workers` workers, each with `executions` executions of `calls` calls. */
const even = (workers, executions, calls) => Array.from({ length: workers }, () => Array(executions).fill(calls));

async function mean(workers, seeds, form, pick) {
	let sum = 0;
	let most = 0;
	for (const seed of seeds) {
		const value = pick(await storm(workers, seed, form));
		sum += value;
		most = Math.max(most, value);
	}
	return { mean: sum / seeds.length, most };
}

const times = (value) => `${value.toFixed(2)}×`;
const percent = (value) => `${(value * 100).toFixed(1)} %`;

async function main() {
	const lone = await storm(even(1, 1, 50), 1, TOGETHER);
	const slowest = (result) => result.slowest;
	const throttled = (result) => result.throttled;
	const both = async (workers, seeds) =>
		`${percent((await mean(workers, seeds, TOGETHER, throttled)).mean)} / ${percent((await mean(workers, seeds, STAGGERED, throttled)).mean)}`;
	const twoWorkers = await mean(even(2, 4, 25), [1, 2, 3], STAGGERED, slowest);
	const uneven = await mean([[20, 20], [80, 80]], [1, 2, 3], STAGGERED, slowest);
	const cells = [
		`${times(lone.slowest)}, ${lone.throttledCalls}`,
		`${times(twoWorkers.mean)} (up to ${times(twoWorkers.most)})`,
		`${times(uneven.mean)} (up to ${times(uneven.most)})`,
		await both(even(4, 2, 13), [1, 2, 3, 4, 5]),
		await both(even(10, 1, 50), [1, 2, 3]),
		await both(even(10, 2, 300), [1, 2]),
		await both(even(20, 2, 150), [1]),
	];
	console.log('| setting | lone 50 calls: ÷ floor, throttled | 2w × 4 × 25 staggered: slowest | uneven, staggered: slowest | 4w × 2 × 13: throttled, together / staggered | 10w × 1 × 50: throttled, together / staggered | 10w × 2 × 300: throttled, together / staggered | 20w × 2 × 150: throttled, together / staggered |');
	console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
	console.log(`| as built | ${cells.join(' | ')} |`);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
