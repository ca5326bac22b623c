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

const { Pacer } = require(path.resolve(__dirname, '../../dist/nodes/DingTalk/transport/pacer.js'));
const { storm, evenWorkers } = require('../support/pacing-simulation');

const TOGETHER = { stagger: 0, jitterMs: 5 };
const STAGGERED = { stagger: 20, jitterMs: 20 };

/** The mean and the most of `pick` over these seeds. */
async function overSeeds(workers, seeds, form, pick) {
	let sum = 0;
	let most = 0;
	for (const seed of seeds) {
		const value = pick(await storm({ workers, seed, Pacer, ...form }));
		sum += value;
		most = Math.max(most, value);
	}
	return { mean: sum / seeds.length, most };
}

const slowest = (result) => result.slowest;
const throttledShare = ({ dingTalk }) => dingTalk.throttled / (dingTalk.throttled + dingTalk.admitted);
const times = (value) => `${value.toFixed(2)}×`;
const percent = (value) => `${(value * 100).toFixed(1)} %`;

async function main() {
	const lone = await storm({ workers: evenWorkers(1, 1, 50), Pacer, ...TOGETHER });
	const both = async (workers, seeds) =>
		`${percent((await overSeeds(workers, seeds, TOGETHER, throttledShare)).mean)} / ${percent((await overSeeds(workers, seeds, STAGGERED, throttledShare)).mean)}`;
	const twoWorkers = await overSeeds(evenWorkers(2, 4, 25), [1, 2, 3], STAGGERED, slowest);
	const uneven = await overSeeds([[20, 20], [80, 80]], [1, 2, 3], STAGGERED, slowest);
	const cells = [
		`${times(lone.slowest)}, ${lone.dingTalk.throttled}`,
		`${times(twoWorkers.mean)} (up to ${times(twoWorkers.most)})`,
		`${times(uneven.mean)} (up to ${times(uneven.most)})`,
		await both(evenWorkers(4, 2, 13), [1, 2, 3, 4, 5]),
		await both(evenWorkers(10, 1, 50), [1, 2, 3]),
		await both(evenWorkers(10, 2, 300), [1, 2]),
		await both(evenWorkers(20, 2, 150), [1]),
	];
	console.log('| setting | lone 50 calls: ÷ floor, throttled | 2w × 4 × 25 staggered: slowest | uneven, staggered: slowest | 4w × 2 × 13: throttled, together / staggered | 10w × 1 × 50: throttled, together / staggered | 10w × 2 × 300: throttled, together / staggered | 20w × 2 × 150: throttled, together / staggered |');
	console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
	console.log(`| as built | ${cells.join(' | ')} |`);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
