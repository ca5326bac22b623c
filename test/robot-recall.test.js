'use strict';
const { startServer, credentialsFor, recallRobot, json, allOutputs, PATHS, ROBOT } = require('./support/fixture');
const { runNode } = require('./support/n8n-harness');

describe('Recall Robot One-on-One Messages, in n8n’s engine against the DingTalk-compatible server', () => {
	let server;

	test('1,000 keys over 200 items (single keys, arrays, comma-separated) are 50 calls of at most 20 keys and 1,000 Success items', async () => {
		server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 1000);
		const items = [];
		for (let index = 0; index < 200; index++) {
			const own = keys.slice(index * 5, index * 5 + 5);
			if (index % 3 === 0) items.push({ keys: own }); // an array
			else if (index % 3 === 1) items.push({ keys: ` ${own.join(' , ')} ,` }); // comma-separated, with spaces and an empty part
			else items.push(...own.map((key) => ({ keys: key }))); // single keys, one item each
		}

		const result = await recallRobot({ server, items });

		expect(result.error).toBeUndefined();
		expect(result.failed).toHaveLength(0);
		expect(result.success).toHaveLength(1000);
		const calls = server.callsTo(PATHS.batchRecall);
		expect(calls).toHaveLength(50);
		for (const call of calls) expect(call.body.processQueryKeys.length).toBeLessThanOrEqual(20);
		expect(keys.every((key) => server.isRecalled(key))).toBe(true);

		// Each output item is paired to the input item its key came from.
		for (const item of result.success) {
			const input = items[item.pairedItem.item];
			const given = Array.isArray(input.keys) ? input.keys : input.keys.split(',').map((part) => part.trim());
			expect(given).toContain(item.json.processQueryKey);
			expect(item.json).toEqual({
				operation: ROBOT,
				processQueryKey: item.json.processQueryKey,
				robotCode: 'dingRobotA',
				recalled: true,
				requestId: expect.any(String),
			});
		}
		expect(new Set(json(result.success).map((item) => item.processQueryKey)).size).toBe(1000);
	});

	test('a partial failedResult: recalled keys to Success, a key recalled by an earlier run confirmed by read status, the others to Failed with DingTalk’s reason', async () => {
		server = await startServer({ batchMode: 'lenient' });
		const [fresh, recalledBefore] = server.sendRobotMessages('dingRobotA', 2);
		await recallRobot({ server, items: [{ keys: recalledBefore }] });
		const expired = server.sendRobotMessage('dingRobotA', { sentAt: Date.now() - 25 * 3600 * 1000 });

		const result = await recallRobot({ server, items: [{ keys: [fresh, recalledBefore, 'no-such-key', expired] }] });

		expect(json(result.success)).toEqual([
			{ operation: ROBOT, processQueryKey: fresh, robotCode: 'dingRobotA', recalled: true, requestId: expect.any(String) },
			{ operation: ROBOT, processQueryKey: recalledBefore, robotCode: 'dingRobotA', recalled: true, alreadyRecalled: true },
		]);
		const failed = Object.fromEntries(json(result.failed).map((item) => [item.processQueryKey, item]));
		expect(Object.keys(failed).sort()).toEqual(['no-such-key', expired].sort());
		expect(failed['no-such-key']).toMatchObject({ recalled: false, errorCode: 'invalid.processQueryKey' });
		expect(failed[expired]).toMatchObject({ recalled: false, errorCode: 'robot.processQueryKey.expired' });
		for (const item of Object.values(failed)) expect(item.errorMessage).toMatch(/\w+ \w+/);
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(2);
		// Only the unclear key's read status was asked; documented refusals and fresh recalls never are.
		expect(server.callsTo(PATHS.readStatus).map((call) => call.statusKey)).toEqual([recalledBefore]);
	});

	test('keys of two robot codes in one run are pooled per robot, and each call carries one robot’s keys', async () => {
		server = await startServer();
		const keysA = server.sendRobotMessages('dingRobotA', 30);
		const keysB = server.sendRobotMessages('dingRobotB', 25);
		const items = [
			...keysA.map((key) => ({ robot: 'dingRobotA', keys: key })),
			...keysB.map((key) => ({ robot: 'dingRobotB', keys: key })),
		];

		const result = await recallRobot({ server, items, robotCode: '={{ $json.robot }}' });

		expect(result.failed).toHaveLength(0);
		expect(result.success).toHaveLength(55);
		const calls = server.callsTo(PATHS.batchRecall);
		expect(calls).toHaveLength(4); // 30 → 20 + 10, 25 → 20 + 5
		for (const call of calls) {
			const owner = call.body.robotCode === 'dingRobotA' ? keysA : keysB;
			for (const key of call.body.processQueryKeys) expect(owner).toContain(key);
		}
		for (const item of result.success) expect(item.json.robotCode).toBe(items[item.pairedItem.item].robot);
	});

	test('a whole call refused for one unknown key: the bad key is isolated and the 19 others are recalled', async () => {
		server = await startServer({ batchMode: 'strict' });
		const keys = server.sendRobotMessages('dingRobotA', 19);
		const given = [...keys.slice(0, 7), 'unknown-key', ...keys.slice(7)];

		const result = await recallRobot({ server, items: [{ keys: given }] });

		expect(json(result.success).map((item) => item.processQueryKey).sort()).toEqual([...keys].sort());
		expect(json(result.failed)).toEqual([
			expect.objectContaining({ processQueryKey: 'unknown-key', errorCode: 'invalid.processQueryKey', recalled: false }),
		]);
		// 1 refused call, then halving: far fewer than one call per key.
		expect(server.callsTo(PATHS.batchRecall).length).toBeLessThanOrEqual(12);
	});

	test('a setup error while isolating a bad key, with Continue On Fail: keys recalled before it stay on Success, the rest Failed with its code', async () => {
		server = await startServer({ batchMode: 'strict' });
		const keys = server.sendRobotMessages('dingRobotA', 4);
		// The whole call is refused for the unknown key; its first half is recalled; then the app loses its permission.
		server.injectFault(PATHS.batchRecall, 'none', 2);
		server.injectFault(PATHS.batchRecall, 'permissionDenied', 5);

		const result = await recallRobot({ server, items: [{ keys: [...keys.slice(0, 3), 'unknown-key', keys[3]] }], continueOnFail: true });

		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(keys.slice(0, 3));
		expect(keys.slice(0, 3).every((key) => server.isRecalled(key))).toBe(true);
		expect(json(result.failed).map((item) => [item.processQueryKey, item.errorCode])).toEqual(
			['unknown-key', keys[3]].map((key) => [key, 'Forbidden.AccessDenied.AccessTokenPermissionDenied']),
		);
		expect(server.isRecalled(keys[3])).toBe(false);
	});

	test('another robot’s message (not.allowed.robotCode) and an expired one do not sink the batch', async () => {
		server = await startServer({ batchMode: 'strict' });
		const keys = server.sendRobotMessages('dingRobotA', 10);
		const otherRobots = server.sendRobotMessage('dingRobotB');
		const expired = server.sendRobotMessage('dingRobotA', { sentAt: Date.now() - 30 * 3600 * 1000 });

		const result = await recallRobot({ server, items: [{ keys: [otherRobots, ...keys, expired] }] });

		expect(result.success).toHaveLength(10);
		const failed = Object.fromEntries(json(result.failed).map((item) => [item.processQueryKey, item.errorCode]));
		expect(failed).toEqual({ [otherRobots]: 'not.allowed.robotCode', [expired]: 'robot.processQueryKey.expired' });
		expect(server.isRecalled(otherRobots)).toBe(false);
	});

	test('a 400 notRevoke.all.messages that carries per-key results is read, not split', async () => {
		server = await startServer({ batchMode: 'notRevoke' });
		const keys = server.sendRobotMessages('dingRobotA', 5);
		const result = await recallRobot({ server, items: [{ keys: [...keys, 'gone'] }] });

		expect(result.success).toHaveLength(5);
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: 'gone', errorCode: 'invalid.processQueryKey' })]);
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(1);
	});

	test('the same key given several times is sent once, and every occurrence gets its own output item', async () => {
		server = await startServer();
		const [first, second] = server.sendRobotMessages('dingRobotA', 2);
		const items = [{ keys: [first, first] }, { keys: `${first},${second}` }, { keys: second }];

		const result = await recallRobot({ server, items });

		const sent = server.callsTo(PATHS.batchRecall).flatMap((call) => call.body.processQueryKeys);
		expect(sent.sort()).toEqual([first, second].sort());
		expect(result.failed).toHaveLength(0);
		expect(result.success.map((item) => [item.pairedItem.item, item.json.processQueryKey])).toEqual([
			[0, first],
			[0, first],
			[1, first],
			[1, second],
			[2, second],
		]);
	});

	test('bad input gives invalidInput Failed items that name the item, and good keys still go through', async () => {
		server = await startServer();
		const [good, alsoGood] = server.sendRobotMessages('dingRobotA', 2);
		const items = [
			{ keys: null },
			{ keys: 12345 },
			{ keys: { key: 'x' } },
			{ keys: [good, ['nested'], 7] },
			{ keys: '   ' },
			{ keys: 'k'.repeat(10_000) },
			{ keys: '' },
			{ keys: alsoGood, robot: '   ' },
		];

		const result = await recallRobot({ server, items, robotCode: '={{ $json.robot ?? "dingRobotA" }}' });

		expect(result.error).toBeUndefined();
		expect(json(result.success).map((item) => item.processQueryKey)).toEqual([good]);
		const failed = result.failed.map((item) => ({ item: item.pairedItem.item, ...item.json }));
		expect(failed.map((item) => item.item)).toEqual([0, 1, 2, 3, 3, 4, 5, 6, 7]);
		for (const item of failed) {
			expect(item.errorCode).toBe('invalidInput');
			expect(item.errorMessage).toMatch(new RegExp(`^Item ${item.item}: `));
			expect(item.recalled).toBe(false);
		}
		expect(failed[1].errorMessage).toMatch(/a number/);
		expect(failed[2].errorMessage).toMatch(/an object/);
		expect(failed[3].errorMessage).toMatch(/nested list/);
		expect(failed[6].errorMessage).toMatch(/at most 1024 characters/);
		expect(failed[6].processQueryKey.length).toBeLessThan(100);
		expect(failed[8].errorMessage).toMatch(/robotCode is empty/);
		expect(server.isRecalled(alsoGood)).toBe(false);
	});

	test('the token travels as the x-acs-dingtalk-access-token header to the api host, never in the query', async () => {
		server = await startServer();
		const credentials = credentialsFor(server);
		const keys = server.sendRobotMessages('dingRobotA', 3);
		await recallRobot({ server, credentials, items: [{ keys }] });

		const stored = credentials.dataOf('cred-1').accessToken;
		expect(stored).toMatch(/^[0-9a-f]{32}$/);
		const [call] = server.callsTo(PATHS.batchRecall);
		expect(call.headerToken).toBe(stored);
		expect(call.queryToken).toBeUndefined();
		expect(server.callsTo(PATHS.accessToken)).toHaveLength(1);
	});

	test('batchSize and concurrency options shape the calls', async () => {
		server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 23);
		const result = await recallRobot({ server, items: [{ keys }], options: { batchSize: 5, concurrency: 2 } });
		expect(result.success).toHaveLength(23);
		expect(server.callsTo(PATHS.batchRecall).map((call) => call.body.processQueryKeys.length).sort((x, y) => y - x)).toEqual([5, 5, 5, 5, 3]);
	});

	test('`{{ $json.keys }}`, read straight from the item, gives exactly what n8n’s expression engine gives', async () => {
		server = await startServer({ batchMode: 'lenient' });
		const keys = server.sendRobotMessages('dingRobotA', 6);
		const items = [{ keys: keys[0] }, { keys: [keys[1], keys[2]] }, { keys: `${keys[3]}, ${keys[4]}` }, { keys: null }, { keys: 7 }, {}, { keys: keys[5] }];
		const run = async (expression) =>
			await runNode({
				items,
				credentials: credentialsFor(server),
				parameters: { operation: ROBOT, robotCode: 'dingRobotA', processQueryKeys: expression, options: {} },
			});

		const direct = await run('={{ $json.keys }}');
		for (const key of keys) server.robotMessages.get(key).recalled = false;
		const engine = await run('={{ $json["keys"] }}');

		const view = (result) => allOutputs(result).map(({ output, json: { requestId, ...rest }, pairedItem }) => ({ output, rest, pairedItem }));
		expect(view(direct)).toEqual(view(engine));
		expect(direct.success).toHaveLength(6);
		expect(direct.failed).toHaveLength(3);

		// A dotted path, also read straight from the item, agrees with the engine's reading too.
		const nested = items.map((item) => ({ alert: { recall: item } }));
		const runNested = async (expression) => {
			for (const key of keys) server.robotMessages.get(key).recalled = false;
			return await runNode({
				items: nested,
				credentials: credentialsFor(server),
				parameters: { operation: ROBOT, robotCode: 'dingRobotA', processQueryKeys: expression, options: {} },
			});
		};
		expect(view(await runNested('={{ $json.alert.recall.keys }}'))).toEqual(view(engine));
		expect(view(await runNested('={{ $json["alert"]["recall"]["keys"] }}'))).toEqual(view(engine));
	});
});
