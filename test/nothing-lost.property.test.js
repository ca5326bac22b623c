'use strict';
/**
 * Property: whatever mix of keys, input shapes, DingTalk behaviours and faults — on the recall API and on
 * the token API, and a stop of the execution — every key given ends on exactly one output, paired to its
 * input item; Success means DingTalk recalled the message (by this run's call, or — `alreadyRecalled` — as
 * its read status showed); a message this run recalled that is not on Success is on Failed with
 * `mayBeRecalled: true`; no message is recalled twice; read status is asked at most once per key; no
 * secret or token shows in any output.
 *
 * `npm test` runs fixed seeds, so it gives the same answer every run. `FC_SEED=<n>` runs another seed,
 * `FC_SEED=random` a random one, `FC_RUNS=<n>` more or fewer runs per seed; the seeds are always printed.
 */
const fc = require('fast-check');
const { startServer, credentialsFor, recallRobot, PATHS } = require('./support/fixture');

const SECRET = 'pr0perty-secret';

const part = fc.oneof(
	{ weight: 6, arbitrary: fc.record({ kind: fc.constant('sent'), robot: fc.constantFrom('dingRobotA', 'dingRobotB') }) },
	{ weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate'), of: fc.nat() }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('unknown') }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('expired') }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('blank') }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('long') }) },
	{ weight: 1, arbitrary: fc.record({ kind: fc.constant('bad'), value: fc.constantFrom(42, { a: 1 }, ['nested'], true) }) },
);
const item = fc.record({
	form: fc.constantFrom('array', 'comma', 'single'),
	robot: fc.constantFrom('dingRobotA', 'dingRobotB', 'dingUnknownRobot', ''),
	parts: fc.array(part, { maxLength: 30 }),
});
const tokenFault = fc.record({
	type: fc.constantFrom('500', '502', 'drop', '429', 'busy200', 'ban'),
	count: fc.integer({ min: 1, max: 3 }),
});
const fault = fc.record({
	type: fc.constantFrom(
		'500', '502', 'html', 'empty', 'drop', 'timeout', 'tokenExpired', '429', 'busy200',
		// DingTalk recalls, and the answer is lost or says nothing about the keys.
		'lostAnswer', 'lostAnswerTimeout', 'silent',
		'failedReason:SYSTEM_ERROR',
		// A setup error in the middle of the run (Continue On Fail): keys recalled before it stay on Success.
		'permissionDenied',
	),
	count: fc.integer({ min: 1, max: 4 }),
});
const scenario = fc.record({
	items: fc.array(item, { maxLength: 12 }),
	batchMode: fc.constantFrom('strict', 'lenient', 'notRevoke', 'notRevokeBare'),
	faults: fc.array(fault, { maxLength: 3 }),
	tokenFaults: fc.array(tokenFault, { maxLength: 2 }),
	/** Stop the execution when DingTalk got this many recall calls. */
	stopAfterCalls: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined, freq: 4 }),
	expireTokensAfter: fc.constantFrom(undefined, 2, 5),
	batchSize: fc.integer({ min: 1, max: 20 }),
	concurrency: fc.integer({ min: 1, max: 6 }),
	maxRetries: fc.integer({ min: 0, max: 3 }),
});

/** Builds the items' JSON and how many output items each must give. */
function materialise(server, spec) {
	const sent = [];
	const items = [];
	const expected = [];
	for (const { form, robot, parts } of spec.items) {
		const values = [];
		for (const p of parts) {
			if (p.kind === 'sent') sent.push(server.sendRobotMessage(p.robot));
			if (p.kind === 'sent') values.push(sent[sent.length - 1]);
			else if (p.kind === 'duplicate') values.push(sent.length ? sent[p.of % sent.length] : 'never-sent');
			else if (p.kind === 'unknown') values.push(`unknown-${values.length}`);
			else if (p.kind === 'expired') values.push(server.sendRobotMessage(robot || 'dingRobotA', { sentAt: Date.now() - 25 * 3600e3 }));
			else if (p.kind === 'blank') values.push('   ');
			else if (p.kind === 'long') values.push('L'.repeat(2000));
			else if (form === 'array') values.push(p.value);
		}
		const texts = values.filter((value) => typeof value === 'string');
		let keys;
		let count;
		if (form === 'array') {
			keys = values;
			count = values.filter((value) => typeof value !== 'string' || value.trim() !== '').length;
		} else if (form === 'comma') {
			keys = texts.join(',');
			count = texts.filter((value) => value.trim() !== '').length;
		} else {
			// One item per value, as a single key each.
			for (const value of texts) {
				items.push({ robot, keys: value });
				expected.push(1); // a blank single key still gives one invalidInput item
			}
			continue;
		}
		items.push({ robot, keys });
		expected.push(Math.max(1, count));
	}
	return { items, expected };
}

/** The fixed seeds `npm test` runs; -257103322 once found a recalled key reported as plainly Failed. */
const FIXED_SEEDS = [-257103322, 20261128, 42];
const RUNS_PER_SEED = Number(process.env.FC_RUNS ?? 25);

function seedsToRun() {
	const requested = process.env.FC_SEED;
	if (!requested) return FIXED_SEEDS;
	if (requested === 'random') return [Math.floor(Math.random() * 2 ** 31) * (Math.random() < 0.5 ? -1 : 1)];
	return requested.split(',').map(Number);
}

/**
 * The counterexample seed -257103322 found (before the generator grew token faults and stops, so it is
 * kept here as an explicit case): one key, strict batches, an answer lost to a timeout, then the app's
 * permission refused, with Continue On Fail. DingTalk recalled the key; it must not end plainly Failed.
 */
const REGRESSION = {
	items: [{ form: 'single', robot: 'dingRobotA', parts: [{ kind: 'sent', robot: 'dingRobotA' }] }],
	batchMode: 'strict',
	faults: [{ type: 'lostAnswerTimeout', count: 1 }, { type: 'permissionDenied', count: 4 }],
	tokenFaults: [],
	stopAfterCalls: undefined,
	expireTokensAfter: undefined,
	batchSize: 20,
	concurrency: 1,
	maxRetries: 2,
};

async function nothingLost(spec) {
	const server = await startServer({ batchMode: spec.batchMode, apps: { 'ding-app-key': SECRET } });
	try {
		server.expireTokensAfter = spec.expireTokensAfter;
		for (const { type, count } of spec.faults) server.injectFault(PATHS.batchRecall, type, count);
		for (const { type, count } of spec.tokenFaults) server.injectFault(PATHS.accessToken, type, count);
		const { items, expected } = materialise(server, spec);
		const before = new Set([...server.robotMessages].filter(([, m]) => m.recalled).map(([key]) => key));
		let stop = () => {};
		if (spec.stopAfterCalls !== undefined) {
			server.onRequest = (call) => {
				if (call.path === PATHS.batchRecall && server.callsTo(PATHS.batchRecall).length === spec.stopAfterCalls) setImmediate(stop);
			};
		}

		const result = await recallRobot({
			server,
			credentials: credentialsFor(server, { clientSecret: SECRET }),
			items,
			robotCode: '={{ $json.robot }}',
			continueOnFail: true,
			options: { batchSize: spec.batchSize, concurrency: spec.concurrency, maxRetries: spec.maxRetries, retryDelay: 1, timeout: 150 },
			onStart: (stopExecution) => (stop = stopExecution),
		});

		if (result.run.status !== 'canceled') expect(result.error).toBeUndefined();
		const outputs = [...result.success, ...result.failed];
		expect(outputs).toHaveLength(expected.reduce((sum, n) => sum + n, 0));
		const perItem = new Array(items.length).fill(0);
		for (const output of outputs) perItem[output.pairedItem.item]++;
		expect(perItem).toEqual(expected);

		// Success ⇒ DingTalk recalled the key.
		for (const output of result.success) {
			expect(output.json.recalled).toBe(true);
			expect(server.isRecalled(output.json.processQueryKey)).toBe(true);
			expect(output.json).not.toHaveProperty('mayBeRecalled');
		}
		for (const output of result.failed) {
			expect(output.json.recalled).toBe(false);
			expect(typeof output.json.errorCode).toBe('string');
			expect(output.json.errorCode.length).toBeGreaterThan(0);
			expect(output.json).not.toHaveProperty('error');
		}

		// Recalled by this run but not on Success ⇒ on Failed with mayBeRecalled: true (for the robot that sent it:
		// another robot's call for the same key was clearly refused, whatever the sender's call did).
		const recalledNow = new Set([...server.robotMessages].filter(([key, m]) => m.recalled && !before.has(key)).map(([key]) => key));
		const onSuccess = new Set(result.success.map((output) => output.json.processQueryKey));
		for (const output of result.failed) {
			const key = output.json.processQueryKey;
			const sentBy = server.robotMessages.get(key)?.robotCode;
			if (recalledNow.has(key) && !onSuccess.has(key) && sentBy === output.json.robotCode) expect(output.json.mayBeRecalled).toBe(true);
		}
		// Success without alreadyRecalled comes from a recall answer that named the key as recalled.
		const reported = new Set(server.callsTo(PATHS.batchRecall).flatMap((call) => call.reportedKeys ?? []));
		for (const { json } of result.success) if (!json.alreadyRecalled) expect(reported.has(json.processQueryKey)).toBe(true);
		// Read status: at most one answered query per key of a robot.
		const statusAnswers = {};
		for (const call of server.callsTo(PATHS.readStatus).filter((c) => c.status === 200 || (c.status === 400 && c.code !== 'InvalidAuthentication'))) {
			const asked = `${call.statusRobot} ${call.statusKey}`;
			statusAnswers[asked] = (statusAnswers[asked] ?? 0) + 1;
		}
		for (const count of Object.values(statusAnswers)) expect(count).toBe(1);
		// No message was recalled twice: each recalled key appears in exactly one call's recalls.
		const recalledByCalls = server.callsTo(PATHS.batchRecall).flatMap((call) => call.recalledKeys ?? []);
		expect(recalledByCalls.length).toBe(recalledNow.size);
		expect(new Set(recalledByCalls)).toEqual(recalledNow);

		const text = JSON.stringify(outputs);
		expect(text).not.toContain(SECRET);
		for (const token of server.tokens.keys()) expect(text).not.toContain(token);
	} finally {
		server.onRequest = undefined;
		await server.stop();
	}
}

describe('property: nothing is lost, nothing misreported', () => {
	test('the counterexample of seed -257103322: a key recalled by a lost call, then a setup error', async () => {
		await nothingLost(REGRESSION);
	});

	const seeds = seedsToRun();
	// Always printed: a failure can be replayed with FC_SEED=<seed>.
	console.log(`nothing-lost property: seeds ${seeds.join(', ')}, ${RUNS_PER_SEED} runs each (FC_SEED, FC_RUNS to change)`);
	test.each(seeds)('random keys, inputs, DingTalk behaviours, token API faults and stops (seed %i)', async (seed) => {
		await fc.assert(fc.asyncProperty(scenario, nothingLost), { seed, numRuns: RUNS_PER_SEED });
	}, 240_000);
});
