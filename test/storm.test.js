'use strict';
/**
 * Incident storms in n8n's engine: many executions of the node start at once on one credential, so on
 * one DingTalk app, against the DingTalk-compatible server's per-app, per-API limit. They share one pace
 * per app and API in the process, so every key is recalled exactly once and DingTalk refuses few calls.
 * (How long storms take against the floor is measured by `npm run bench`, not asserted here.)
 */
const { startServer, credentialsFor, recallRobot, json, PATHS } = require('./support/fixture');

/** Runs `executions` executions of `keys` keys each at once; checks every key ends on Success exactly once. */
async function storm({ rateLimitPerSecond, executions, keys }) {
	const server = await startServer({ rateLimitPerSecond });
	const credentials = credentialsFor(server);
	const keysOf = Array.from({ length: executions }, () => server.sendRobotMessages('dingRobotA', keys));

	const results = await Promise.all(
		keysOf.map(async (own) => await recallRobot({ server, credentials, items: own.map((key) => ({ keys: key })) })),
	);

	for (const [index, result] of results.entries()) {
		expect(result.error).toBeUndefined();
		expect(result.failed).toHaveLength(0);
		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(keysOf[index]);
		expect(json(result.success).some((item) => item.alreadyRecalled)).toBe(false);
	}
	const calls = server.callsTo(PATHS.batchRecall);
	const recalledByCalls = calls.flatMap((call) => call.recalledKeys ?? []);
	expect(recalledByCalls.sort()).toEqual(keysOf.flat().sort());
	const throttled = calls.filter((call) => call.status === 403);
	expect(calls.length - throttled.length).toBe(executions * Math.ceil(keys / 20));
	return { throttled: throttled.length };
}

describe('Incident storm: executions at once on one DingTalk app share its limit', () => {
	test('25 executions of 40 keys each against DingTalk’s 20 calls per second: every key recalled once, none Failed, few calls refused', async () => {
		const { throttled } = await storm({ rateLimitPerSecond: 20, executions: 25, keys: 40 });
		// Each execution pacing itself alone, or one pace starting unlimited, DingTalk refused 25–35 calls
		// here. Shared and starting at 20, only probes for a higher limit are refused: a few at first, then
		// one every one to three seconds.
		expect(throttled).toBeLessThanOrEqual(12);
	});

	test('an app DingTalk allows fewer than its standard 20 calls a second: the storm learns the lower limit, every key still recalled once', async () => {
		await storm({ rateLimitPerSecond: 8, executions: 12, keys: 30 });
	});
});
