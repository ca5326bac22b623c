'use strict';
/**
 * Faults nobody documented, in n8n's engine against the DingTalk-compatible server: a token API that
 * fails for a moment (first request and renewal mid-run, both hosts, both app types), answers lost where
 * no read status exists (`mayBeRecalled`), whole-call refusals with unknown codes, and a setup error
 * after DingTalk already recalled some keys.
 */
const { startServer, credentialsFor, recallRobot, recallWork, json, PATHS } = require('./support/fixture');
const { runNode } = require('./support/n8n-harness');

const FAST = { retryDelay: 5 };
const AGENT = 836390886;
const PRIVATE_CHAT = 'cidPrivate+C3/xyz==';

const keysOf = (items) => json(items).map((item) => item.processQueryKey);

describe('The token API fails for a moment: repeated within Retries like any other call', () => {
	test.each([
		['500 system.error, then a dropped connection', ['500', 'drop']],
		['429 system.busy', ['429']],
		['HTTP 200 {"code":"system.busy"}', ['busy200']],
		['a 502 HTML page and the IP-ban body', ['502', 'ban']],
	])('at the first token request: %s', async (_name, faults) => {
		const server = await startServer();
		for (const fault of faults) server.injectFault(PATHS.accessToken, fault, 1);
		const keys = server.sendRobotMessages('dingRobotA', 45);

		const result = await recallRobot({ server, items: [{ keys }], options: FAST });

		expect(result.error).toBeUndefined();
		expect(result.failed).toEqual([]);
		expect(keysOf(result.success)).toEqual(keys);
		expect(server.callsTo(PATHS.accessToken)).toHaveLength(faults.length + 1);
		// Nothing went out without a token.
		expect(server.callsTo(PATHS.batchRecall).every((call) => call.status === 200)).toBe(true);
	});

	test('at a renewal in the middle of a 400-key run: the renewal is repeated, every key recalled, none lost', async () => {
		const server = await startServer({ latencyMs: 2 });
		const credentials = credentialsFor(server);
		const keys = server.sendRobotMessages('dingRobotA', 400);
		let recalls = 0;
		server.onRequest = (call) => {
			// After 7 recall calls the token expires, and the token API fails twice when asked for a new one.
			if (call.path === PATHS.batchRecall && ++recalls === 7) {
				server.expireAllTokens();
				server.injectFault(PATHS.accessToken, '500', 1);
				server.injectFault(PATHS.accessToken, 'drop', 1);
			}
		};

		const result = await recallRobot({ server, credentials, items: keys.map((key) => ({ keys: key })), options: FAST });

		expect(result.error).toBeUndefined();
		expect(result.failed).toEqual([]);
		expect(keysOf(result.success)).toEqual(keys);
		expect(keys.every((key) => server.isRecalled(key))).toBe(true);
		// One first token, then one renewal shared by every call refused on the expired token: 500, drop, ok.
		expect(server.callsTo(PATHS.accessToken).map((call) => call.status)).toEqual([200, 500, -1, 200]);
		expect(credentials.dataOf('cred-1').accessToken).toBe(server.callsTo(PATHS.batchRecall).at(-1).headerToken);
	});

	test('work notifications (oapi host) and a third-party app (corpAccessToken) ride out the same faults', async () => {
		const suites = { suiteKeyX: { suiteSecret: 'suite-secret-value', suiteTicket: 'ticket-1', corps: ['ding-corp'] } };
		const server = await startServer({ suites });
		server.injectFault(PATHS.accessToken, 'busy200', 1);
		server.injectFault(PATHS.corpAccessToken, '500', 1);
		server.injectFault(PATHS.corpAccessToken, '429', 1);
		const taskIds = [1, 2, 3].map(() => server.sendWorkNotification(AGENT));
		const keys = server.sendRobotMessages('dingRobotA', 3);
		const thirdParty = { appType: 'thirdParty', suiteKey: 'suiteKeyX', suiteSecret: 'suite-secret-value', authCorpId: 'ding-corp', suiteTicket: 'ticket-1' };

		const work = await recallWork({ server, items: taskIds.map((taskId) => ({ agentId: AGENT, taskId })), options: FAST });
		const robot = await recallRobot({ server, credentials: credentialsFor(server, thirdParty), items: [{ keys }], options: FAST });

		expect([work.success.length, work.failed.length, robot.success.length, robot.failed.length]).toEqual([3, 0, 3, 0]);
		expect(server.callsTo(PATHS.accessToken)).toHaveLength(2);
		expect(server.callsTo(PATHS.corpAccessToken)).toHaveLength(3);
	});

	test('a token API that keeps failing past the retries: every key Failed with the reason, one token request per try for the whole run, no stop', async () => {
		const server = await startServer();
		server.injectFault(PATHS.accessToken, '500', 100);
		const keys = server.sendRobotMessages('dingRobotA', 200);

		const result = await recallRobot({ server, items: [{ keys }], options: { ...FAST, maxRetries: 2 } });

		expect(result.error).toBeUndefined();
		expect(result.success).toEqual([]);
		expect(keysOf(result.failed)).toEqual(keys);
		for (const item of json(result.failed)) {
			expect(item).toMatchObject({ recalled: false, errorCode: 'system.error' });
			expect(item.errorMessage).toMatch(/token API failed for a moment.*repeated the token request within Retries/);
			// Nothing was sent: DingTalk cannot have recalled anything.
			expect(item).not.toHaveProperty('mayBeRecalled');
		}
		expect(server.callsTo(PATHS.accessToken)).toHaveLength(3); // the first try and 2 repeats, for all 10 batches together
		expect(server.callsTo(PATHS.batchRecall)).toHaveLength(0);
	});

	test('a definite refusal is a configuration error at once, never repeated; the message names the keys, not a passing failure', async () => {
		const server = await startServer();
		const result = await recallRobot({ server, credentials: credentialsFor(server, { clientSecret: 'wrong-secret' }), items: [{ keys: 'k1,k2' }], options: FAST });
		expect(result.error.name).toBe('NodeApiError');
		expect(result.error.message).toMatch(/invalidClientIdOrSecret.*Client ID and Client Secret/);
		expect(server.callsTo(PATHS.accessToken)).toHaveLength(1);
	});
});

describe('A lost answer where nothing can settle it: Failed with mayBeRecalled', () => {
	test('a work notification recalled by a call whose answer was lost, then refused as 400002: Failed, mayBeRecalled', async () => {
		const server = await startServer();
		const [lost, other] = [1, 2].map(() => server.sendWorkNotification(AGENT));
		server.injectFault(PATHS.workNotificationRecall, 'lostAnswer', 1);

		const result = await recallWork({ server, items: [{ agentId: AGENT, taskId: lost }, { agentId: AGENT, taskId: other }], options: { ...FAST, concurrency: 1 } });

		expect(server.isNotificationRecalled(lost)).toBe(true);
		expect(json(result.success)).toEqual([expect.objectContaining({ msgTaskId: other, recalled: true })]);
		expect(json(result.failed)).toEqual([
			expect.objectContaining({ msgTaskId: lost, recalled: false, errorCode: '400002', mayBeRecalled: true }),
		]);
		expect(json(result.failed)[0].errorMessage).toMatch(/may have been recalled all the same/);
	});

	test('private-chat keys whose answers are lost for good, Check Unclear Outcomes off: Failed as network, mayBeRecalled', async () => {
		const server = await startServer();
		const keys = server.sendChatMessages('dingRobotA', PRIVATE_CHAT, 3);
		server.injectFault(PATHS.privateChatRecall, 'lostAnswer', 3);

		const result = await runNode({
			items: [{ keys }],
			credentials: credentialsFor(server),
			parameters: {
				operation: 'recallRobotPrivateChatMessages',
				robotCode: 'dingRobotA',
				openConversationId: PRIVATE_CHAT,
				processQueryKeys: '={{ $json.keys }}',
				options: { ...FAST, maxRetries: 2, checkUnclear: false },
			},
		});

		expect(keys.every((key) => server.isRecalled(key))).toBe(true);
		expect(json(result.failed).map((item) => [item.processQueryKey, item.errorCode, item.mayBeRecalled])).toEqual(keys.map((key) => [key, 'network', true]));
	});

	test('Check Unclear Outcomes off: a one-on-one key recalled by a lost call and reported "already recalled" on the repeat is Failed, mayBeRecalled', async () => {
		const server = await startServer();
		const [key] = server.sendRobotMessages('dingRobotA', 1);
		server.injectFault(PATHS.batchRecall, 'lostAnswerTimeout', 1);

		const result = await recallRobot({ server, items: [{ keys: key }], options: { ...FAST, timeout: 200, checkUnclear: false } });

		expect(server.isRecalled(key)).toBe(true);
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: key, mayBeRecalled: true })]);
		expect(server.callsTo(PATHS.readStatus)).toHaveLength(0);
	});

	test('a read status that answers "not recalled" settles it: Failed without mayBeRecalled; a status query that fails leaves mayBeRecalled', async () => {
		const server = await startServer();
		const [settled, unsettled] = server.sendRobotMessages('dingRobotA', 2);
		// Both calls' answers are HTML pages (DingTalk never recalled them), through every retry.
		server.injectFault(PATHS.batchRecall, 'html', 2);
		server.injectFault(PATHS.readStatus, 'none', 1);
		server.injectFault(PATHS.readStatus, '502', 1);

		const result = await recallRobot({ server, items: [{ keys: [settled, unsettled] }], options: { ...FAST, maxRetries: 1, batchSize: 2 } });

		expect(result.success).toEqual([]);
		const failed = json(result.failed);
		expect(failed.map((item) => item.errorCode)).toEqual(['invalidResponse', 'invalidResponse']);
		expect(failed[0]).not.toHaveProperty('mayBeRecalled');
		expect(failed[0].errorMessage).toMatch(/read status shows the message was not recalled/);
		expect(failed[1].mayBeRecalled).toBe(true);
		expect(failed[1].errorMessage).toMatch(/could not be asked either: it may have been recalled/);
	});

	test('a message DingTalk clearly refused (a documented key code, no lost answer) has no mayBeRecalled', async () => {
		const server = await startServer({ batchMode: 'lenient' });
		const [good] = server.sendRobotMessages('dingRobotA', 1);
		const result = await recallRobot({ server, items: [{ keys: [good, 'never-sent'] }] });
		expect(keysOf(result.success)).toEqual([good]);
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: 'never-sent', errorCode: 'invalid.processQueryKey' })]);
		expect(json(result.failed)[0]).not.toHaveProperty('mayBeRecalled');
	});
});

describe('A whole-call refusal with a code no document lists', () => {
	test('200 keys refused every call: at most three calls per batch, the pool’s other batches not split, no status check', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 200);
		server.injectFault(PATHS.batchRecall, 'refuse:Forbidden.AccessDenied.AppNotInEdition', 10_000);

		const result = await recallRobot({ server, items: [{ keys }], continueOnFail: true });

		expect(result.success).toEqual([]);
		expect(keysOf(result.failed)).toEqual(keys);
		for (const item of json(result.failed)) {
			expect(item).toMatchObject({ errorCode: 'Forbidden.AccessDenied.AppNotInEdition', recalled: false });
			expect(item).not.toHaveProperty('mayBeRecalled');
		}
		const calls = server.callsTo(PATHS.batchRecall);
		// 10 batches: at most 3 calls each (itself, its first key alone, the rest) — 390 calls before.
		expect(calls.length).toBeLessThanOrEqual(30);
		// Once a single key was refused that way, later batches went once each: 5 batches in flight may each have probed.
		expect(calls.length).toBeLessThanOrEqual(5 * 2 + 5);
		expect(server.callsTo(PATHS.readStatus)).toHaveLength(0);
	});

	test('an unknown code that refused a batch but not its first key alone: the rest go in one call, all recalled', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 20);
		server.injectFault(PATHS.batchRecall, 'refuse:robot.message.locked', 1);

		const result = await recallRobot({ server, items: [{ keys }] });

		expect(result.failed).toEqual([]);
		expect(keysOf(result.success)).toEqual(keys);
		expect(server.callsTo(PATHS.batchRecall).map((call) => call.body.processQueryKeys.length)).toEqual([20, 1, 19]);
	});

	test('the same unknown code on the first key alone: the rest of the batch takes it without another call', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 20);
		server.injectFault(PATHS.batchRecall, 'refuse:robot.message.locked', 2);

		const result = await recallRobot({ server, items: [{ keys }] });

		expect(result.success).toEqual([]);
		expect(json(result.failed).map((item) => item.errorCode)).toEqual(keys.map(() => 'robot.message.locked'));
		expect(server.callsTo(PATHS.batchRecall).map((call) => call.body.processQueryKeys.length)).toEqual([20, 1]);
	});
});

describe('A setup error after DingTalk already recalled some keys', () => {
	test('without Continue On Fail, the error says how many keys are gone and names the first 20', async () => {
		const server = await startServer();
		const keys = server.sendRobotMessages('dingRobotA', 100);
		server.injectFault(PATHS.batchRecall, 'none', 3);
		server.injectFault(PATHS.batchRecall, 'permissionDenied', 100);

		const result = await recallRobot({ server, items: [{ keys }], options: { concurrency: 1 } });

		expect(result.error.name).toBe('NodeApiError');
		expect(result.error.message).toMatch(/AccessTokenPermissionDenied/);
		const recalledNow = keys.filter((key) => server.isRecalled(key));
		expect(recalledNow).toHaveLength(60);
		expect(result.error.description).toMatch(/qyapi_robot_sendmsg/);
		expect(result.error.description).toContain(`DingTalk recalled 60 messages in this run before it stopped: ${recalledNow.slice(0, 20).join(', ')}, and 40 more`);
	});
});

describe('A setup error after an answer was lost', () => {
	test('without Continue On Fail, the error also says how many keys may have been recalled', async () => {
		const server = await startServer();
		const [key] = server.sendRobotMessages('dingRobotA', 1);
		server.injectFault(PATHS.batchRecall, 'lostAnswerTimeout', 1);
		server.injectFault(PATHS.batchRecall, 'permissionDenied', 10);

		const result = await recallRobot({ server, items: [{ keys: key }], options: { ...FAST, timeout: 150 } });

		expect(server.isRecalled(key)).toBe(true);
		expect(result.error.name).toBe('NodeApiError');
		expect(result.error.description).toMatch(/1 more may have been recalled: DingTalk's answer for it was lost/);
	});
});

describe('Answers that only look like DingTalk’s', () => {
	test('a DING answered HTTP 200 with a body that is not DingTalk’s is never Success: repeated, then recalled', async () => {
		const server = await startServer();
		const [first, second] = [server.sendDing('dingRobotA'), server.sendDing('dingRobotA')];
		server.injectFault(PATHS.dingRecall, 'proxy200', 1);
		const run = async (openDingIds, options) =>
			await runNode({
				items: [{ openDingIds }],
				credentials: credentialsFor(server),
				parameters: { operation: 'recallRobotDingMessages', robotCode: 'dingRobotA', openDingIds: '={{ $json.openDingIds }}', options },
			});

		const repeated = await run(first, FAST);
		expect(json(repeated.success)).toEqual([expect.objectContaining({ openDingId: first, recalled: true })]);
		expect(server.callsTo(PATHS.dingRecall)).toHaveLength(2);

		// With no repeat left, the DING goes to Failed: the body was not DingTalk's word, so it may be gone.
		server.injectFault(PATHS.dingRecall, 'empty200', 1);
		const notRepeated = await run(second, { ...FAST, maxRetries: 0 });
		expect(notRepeated.success).toEqual([]);
		expect(json(notRepeated.failed)).toEqual([expect.objectContaining({ openDingId: second, errorCode: 'invalidResponse', mayBeRecalled: true })]);
	});

	test('a read status answering HTTP 200 {} after a lost answer settles nothing: Failed, mayBeRecalled', async () => {
		const server = await startServer();
		const [key] = server.sendRobotMessages('dingRobotA', 1);
		server.injectFault(PATHS.batchRecall, 'lostAnswer', 1); // recalled, the answer lost; the repeat says "already recalled"
		server.injectFault(PATHS.readStatus, 'empty200', 1);

		const result = await recallRobot({ server, items: [{ keys: key }], options: FAST });

		expect(server.isRecalled(key)).toBe(true);
		expect(json(result.failed)).toEqual([expect.objectContaining({ processQueryKey: key, mayBeRecalled: true })]);
		expect(json(result.failed)[0].errorMessage).toMatch(/could not be asked either/);
		expect(server.callsTo(PATHS.readStatus)).toHaveLength(1);
	});
});

describe('A renewal ahead of expiry while the token API fails', () => {
	test('the token in hand still works: every key is recalled with it, and the renewal is tried again later', async () => {
		const server = await startServer();
		const token = server.issueToken('ding-app-key', true);
		const credentials = credentialsFor(server, { accessToken: token, renewAt: 1 }); // due, DingTalk still accepts it
		server.injectFault(PATHS.accessToken, '500', 100);
		const keys = server.sendRobotMessages('dingRobotA', 45);

		const result = await recallRobot({ server, credentials, items: [{ keys }], options: { ...FAST, maxRetries: 2 } });

		expect(result.failed).toEqual([]);
		expect(keysOf(result.success)).toEqual(keys);
		expect(server.callsTo(PATHS.batchRecall).every((call) => call.headerToken === token)).toBe(true);
		// One try ahead of expiry; the next waits half a minute instead of holding up the calls.
		expect(server.callsTo(PATHS.accessToken)).toHaveLength(1);
	});
});

describe('Bounded splitting reads each batch’s own answers', () => {
	test('two batches refused at once with an unknown code: a batch whose first key alone was recalled still sends its rest', async () => {
		const server = await startServer({ latencyMs: 5 });
		const keys = server.sendRobotMessages('dingRobotA', 4);
		// Both batches refused, then the first single key probed refused too; the other batch's first key is recalled.
		server.injectFault(PATHS.batchRecall, 'refuse:robot.message.locked', 3);

		const result = await recallRobot({ server, items: [{ keys }], options: { batchSize: 2, concurrency: 2 } });

		// Whichever batch probed first: its rest takes the code, the other batch's rest is sent and recalled.
		const calls = server.callsTo(PATHS.batchRecall).map((call) => call.body.processQueryKeys.length);
		expect(calls.sort()).toEqual([1, 1, 1, 2, 2]);
		expect(result.success.length).toBe(2);
		expect(json(result.failed).map((item) => item.errorCode)).toEqual(['robot.message.locked', 'robot.message.locked']);
		for (const item of json(result.success)) expect(server.isRecalled(item.processQueryKey)).toBe(true);
	});
});

