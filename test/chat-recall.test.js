'use strict';
/**
 * Recall Robot Group Messages and Recall Robot Private Chat Messages, in n8n's engine against the
 * DingTalk-compatible server: keys pooled per robot and conversation, refusals of a whole conversation,
 * and the group read status for unclear outcomes.
 */
const { startServer, credentialsFor, json, allOutputs, PATHS } = require('./support/fixture');
const { runNode } = require('./support/n8n-harness');

const GROUP = 'recallRobotGroupMessages';
const PRIVATE = 'recallRobotPrivateChatMessages';
const OPS_GROUP = 'cidGroupOps+A1/xyz==';
const DEV_GROUP = 'cidGroupDev+B2/xyz==';
const PRIVATE_CHAT = 'cidPrivate+C3/xyz==';
const FAST = { retryDelay: 5 };

/** Object.groupBy, which Node 20 lacks. */
function groupBy(list, keyOf) {
	const groups = {};
	for (const entry of list) (groups[keyOf(entry)] ??= []).push(entry);
	return groups;
}

/** Runs a chat operation; each item gives `robotCode` (default dingRobotA), `chat` and `keys`. */
async function recallChat({ server, operation = GROUP, items, options = {} }) {
	return await runNode({
		items,
		credentials: credentialsFor(server),
		parameters: {
			operation,
			robotCode: "={{ $json.robotCode ?? 'dingRobotA' }}",
			openConversationId: '={{ $json.chat }}',
			processQueryKeys: '={{ $json.keys }}',
			options,
		},
	});
}

describe('Recall Robot Group Messages, in n8n’s engine', () => {
	test('keys are pooled per robot and group: each call one robot, one group, at most 20 keys; items carry openConversationId', async () => {
		const server = await startServer();
		const opsA = server.sendChatMessages('dingRobotA', OPS_GROUP, 45);
		const opsB = server.sendChatMessages('dingRobotB', OPS_GROUP, 3);
		const devA = server.sendChatMessages('dingRobotA', DEV_GROUP, 7);
		// Keys of one pool spread over several items, interleaved with other pools.
		const items = [
			{ chat: OPS_GROUP, keys: opsA.slice(0, 25) },
			{ chat: DEV_GROUP, keys: devA.join(',') },
			{ chat: OPS_GROUP, robotCode: 'dingRobotB', keys: opsB },
			{ chat: OPS_GROUP, keys: opsA.slice(25) },
		];

		const result = await recallChat({ server, items });

		expect(result.failed).toEqual([]);
		expect(result.success).toHaveLength(55);
		const calls = server.callsTo(PATHS.groupRecall);
		// 45 keys of one pool are 3 calls; the other two pools one call each.
		expect(calls).toHaveLength(5);
		for (const call of calls) {
			expect(call.body.processQueryKeys.length).toBeLessThanOrEqual(20);
			for (const key of call.body.processQueryKeys) {
				expect(server.robotMessages.get(key)).toMatchObject({ robotCode: call.body.robotCode, openConversationId: call.body.openConversationId });
			}
		}
		expect([...opsA, ...opsB, ...devA].every((key) => server.isRecalled(key))).toBe(true);
		for (const item of result.success) {
			const input = items[item.pairedItem.item];
			expect(item.json).toEqual({
				operation: GROUP,
				processQueryKey: item.json.processQueryKey,
				robotCode: input.robotCode ?? 'dingRobotA',
				openConversationId: input.chat,
				recalled: true,
				requestId: expect.any(String),
			});
		}
	});

	test('a group that refuses the robot (bot.stopped, unknown group, robot not in it): that pool is Failed with what to fix, the others are recalled', async () => {
		const server = await startServer({
			conversations: {
				[OPS_GROUP]: { kind: 'group', robots: ['dingRobotA'] },
				[DEV_GROUP]: { kind: 'group', robots: ['dingRobotA'] },
				'cidGroupNoBotB/xyz==': { kind: 'group', robots: ['dingRobotA'] },
			},
		});
		const ops = server.sendChatMessages('dingRobotA', OPS_GROUP, 3);
		const dev = server.sendChatMessages('dingRobotA', DEV_GROUP, 30);
		server.conversations.get(DEV_GROUP).stopped = true; // the robot was switched off in that group after sending

		const result = await recallChat({
			server,
			items: [
				{ chat: DEV_GROUP, keys: dev },
				{ chat: OPS_GROUP, keys: ops },
				{ chat: 'cidNoSuchGroup/xyz==', keys: ['key-1', 'key-2'] },
				{ chat: 'cidGroupNoBotB/xyz==', robotCode: 'dingRobotB', keys: ['key-3'] },
			],
		});

		expect(json(result.success).map((item) => item.processQueryKey)).toEqual(ops);
		const failed = json(result.failed);
		expect(failed).toHaveLength(33);
		const byChat = groupBy(failed, (item) => item.openConversationId);
		expect(byChat[DEV_GROUP]).toHaveLength(30);
		for (const item of byChat[DEV_GROUP]) {
			expect(item).toMatchObject({ recalled: false, errorCode: 'bot.stopped' });
			expect(item.errorMessage).toMatch(/robot is stopped in this conversation/);
		}
		for (const item of [...byChat['cidNoSuchGroup/xyz=='], ...byChat['cidGroupNoBotB/xyz==']]) {
			expect(item.errorCode).toBe('invalid.openConversationId');
			expect(item.errorMessage).toMatch(/openConversationId/);
		}
		expect(dev.some((key) => server.isRecalled(key))).toBe(false);
		// A refusal of the whole group is not a bad key: the batch is not split to find one, so each key was sent once.
		const callsPerChat = groupBy(server.callsTo(PATHS.groupRecall), (call) => call.body.openConversationId);
		expect(callsPerChat[DEV_GROUP].flatMap((call) => call.body.processQueryKeys).sort()).toEqual([...dev].sort());
		expect(callsPerChat['cidNoSuchGroup/xyz==']).toHaveLength(1);
	});

	test('an item without openConversationId is Failed as invalidInput naming the item; other items go on', async () => {
		const server = await startServer();
		const keys = server.sendChatMessages('dingRobotA', OPS_GROUP, 2);

		const result = await recallChat({ server, items: [{ chat: OPS_GROUP, keys }, { chat: '  ', keys: ['key-x'] }, { keys: ['key-y'] }] });

		expect(result.success).toHaveLength(2);
		expect(allOutputs(result).filter((item) => item.output === 'Failed').map((item) => [item.pairedItem.item, item.json.errorCode])).toEqual([
			[1, 'invalidInput'],
			[2, 'invalidInput'],
		]);
		for (const item of json(result.failed)) expect(item.errorMessage).toMatch(/^Item \d: .*openConversationId/);
		for (const call of server.callsTo(PATHS.groupRecall)) expect(call.body.openConversationId).toBe(OPS_GROUP);
	});

	test('a lost answer: each key’s status is asked once through groupMessages/query, and the recalled ones end on Success marked alreadyRecalled', async () => {
		const server = await startServer();
		const keys = server.sendChatMessages('dingRobotA', OPS_GROUP, 4);
		server.injectFault(PATHS.groupRecall, 'lostAnswer', 1);

		const result = await recallChat({ server, items: [{ chat: OPS_GROUP, keys }], options: { ...FAST, maxRetries: 0 } });

		expect(result.failed).toEqual([]);
		expect(json(result.success)).toEqual(
			keys.map((key) => ({
				operation: GROUP,
				processQueryKey: key,
				robotCode: 'dingRobotA',
				openConversationId: OPS_GROUP,
				recalled: true,
				alreadyRecalled: true,
			})),
		);
		const queries = server.callsTo(PATHS.groupQuery);
		expect(queries.map((call) => call.statusKey).sort()).toEqual([...keys].sort());
		for (const call of queries) expect(call.body).toMatchObject({ robotCode: 'dingRobotA', openConversationId: OPS_GROUP });
	});

	test('a message recalled by an earlier run is on Success marked alreadyRecalled; the fresh one beside it is recalled now, and only the earlier one is status-checked', async () => {
		const server = await startServer();
		const [earlier, fresh] = server.sendChatMessages('dingRobotA', OPS_GROUP, 2);
		server.robotMessages.get(earlier).recalled = true;

		const result = await recallChat({ server, items: [{ chat: OPS_GROUP, keys: [earlier, fresh] }] });

		expect(json(result.success)).toEqual([
			expect.objectContaining({ processQueryKey: earlier, alreadyRecalled: true }),
			expect.not.objectContaining({ alreadyRecalled: expect.anything() }),
		]);
		expect(json(result.success)[1].processQueryKey).toBe(fresh);
		// Only the unclear key was checked.
		expect(server.callsTo(PATHS.groupQuery).map((call) => call.statusKey)).toEqual([earlier]);
	});
});

describe('Recall Robot Private Chat Messages, in n8n’s engine', () => {
	test('keys of a private chat are recalled in calls of 20 through privateChatMessages/batchRecall, with openConversationId on each item', async () => {
		const server = await startServer();
		const keys = server.sendChatMessages('dingRobotA', PRIVATE_CHAT, 23);

		const result = await recallChat({ server, operation: PRIVATE, items: [{ chat: PRIVATE_CHAT, keys }] });

		expect(result.failed).toEqual([]);
		expect(json(result.success).map((item) => [item.processQueryKey, item.openConversationId, item.operation])).toEqual(
			keys.map((key) => [key, PRIVATE_CHAT, PRIVATE]),
		);
		// Two calls, in whichever order they reach DingTalk: the second need not wait for the first, which carried the token request.
		expect(server.callsTo(PATHS.privateChatRecall).map((call) => call.body.processQueryKeys.length).sort((x, y) => y - x)).toEqual([20, 3]);
		expect(keys.every((key) => server.isRecalled(key))).toBe(true);
	});

	test('a group’s ID given to the private chat operation is refused as invalid.openConversationId; a lost answer is settled by the private chat’s read status', async () => {
		const server = await startServer();
		const groupKeys = server.sendChatMessages('dingRobotA', OPS_GROUP, 2);
		const privateKeys = server.sendChatMessages('dingRobotA', PRIVATE_CHAT, 2);
		server.injectFault(PATHS.privateChatRecall, 'lostAnswer', 1);

		const result = await recallChat({
			server,
			operation: PRIVATE,
			items: [{ chat: PRIVATE_CHAT, keys: privateKeys }, { chat: OPS_GROUP, keys: groupKeys }],
			options: { ...FAST, maxRetries: 0, concurrency: 1 },
		});

		// DingTalk recalled the private chat's messages, its answer was lost: the private chat's read status shows them recalled.
		expect(json(result.success)).toEqual(privateKeys.map((key) => expect.objectContaining({ processQueryKey: key, openConversationId: PRIVATE_CHAT, alreadyRecalled: true })));
		expect(json(result.failed).map((item) => [item.openConversationId, item.errorCode, item.mayBeRecalled])).toEqual([
			[OPS_GROUP, 'invalid.openConversationId', undefined],
			[OPS_GROUP, 'invalid.openConversationId', undefined],
		]);
		expect(server.callsTo(PATHS.privateChatQuery).map((call) => [call.statusChat, call.statusKey])).toEqual(privateKeys.map((key) => [PRIVATE_CHAT, key]));
		expect(server.callsTo(PATHS.groupQuery)).toHaveLength(0);
	});
});
