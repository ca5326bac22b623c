'use strict';
const { startServer, credentialsFor, recallWork, json, PATHS, WORK } = require('./support/fixture');

describe('Recall Work Notification, in n8n’s engine against the DingTalk-compatible server', () => {
	let server;

	test('known task IDs are recalled, unknown ones (400002) go to Failed, one call per task ID', async () => {
		server = await startServer({ agents: ['836390886'] });
		const sent = [server.sendWorkNotification('836390886'), server.sendWorkNotification('836390886')];
		const items = [
			{ agentId: 836390886, taskId: sent[0] },
			{ agentId: '836390886', taskId: String(sent[1]) },
			{ agentId: 836390886, taskId: 999 },
		];

		const result = await recallWork({ server, items });

		expect(result.error).toBeUndefined();
		expect(json(result.success)).toEqual([
			{ operation: WORK, msgTaskId: sent[0], agentId: 836390886, recalled: true, requestId: expect.any(String) },
			{ operation: WORK, msgTaskId: sent[1], agentId: 836390886, recalled: true, requestId: expect.any(String) },
		]);
		expect(result.success.map((item) => item.pairedItem.item)).toEqual([0, 1]);
		expect(json(result.failed)).toEqual([
			{
				operation: WORK,
				msgTaskId: 999,
				agentId: 836390886,
				recalled: false,
				errorCode: '400002',
				errorMessage: expect.stringMatching(/agentId and msgTaskId/),
				requestId: expect.any(String),
			},
		]);
		expect(result.failed[0].pairedItem).toEqual({ item: 2 });
		expect(sent.every((taskId) => server.isNotificationRecalled(taskId))).toBe(true);
		expect(server.callsTo(PATHS.workNotificationRecall)).toHaveLength(3);
	});

	test('the token travels as the access_token query parameter to the oapi host, with a form body as DingTalk documents', async () => {
		server = await startServer();
		const credentials = credentialsFor(server);
		const taskId = server.sendWorkNotification('836390886');
		await recallWork({ server, credentials, items: [{ agentId: 836390886, taskId }] });

		const [call] = server.callsTo(PATHS.workNotificationRecall);
		expect(call.queryToken).toBe(credentials.dataOf('cred-1').accessToken);
		expect(call.headerToken).toBeUndefined();
		expect(call.contentType).toMatch(/application\/x-www-form-urlencoded/);
		expect(call.body).toEqual({ agent_id: '836390886', msg_task_id: String(taskId) });
	});

	test('a notification already recalled, or sent by another agent, is Failed with 400002', async () => {
		server = await startServer({ agents: ['836390886', '111'] });
		const taskId = server.sendWorkNotification('836390886');
		await recallWork({ server, items: [{ agentId: 836390886, taskId }] });
		const result = await recallWork({ server, items: [{ agentId: 836390886, taskId }, { agentId: 111, taskId }] });
		expect(result.success).toHaveLength(0);
		expect(json(result.failed).map((item) => item.errorCode)).toEqual(['400002', '400002']);
	});

	test('invalid input: a non-numeric msgTaskId, a missing agentId, objects and empty values go to Failed as invalidInput', async () => {
		server = await startServer();
		const good = server.sendWorkNotification('836390886');
		const items = [
			{ agentId: 836390886, taskId: 'abc' },
			{ agentId: '', taskId: 12 },
			{ agentId: 836390886, taskId: { id: 1 } },
			{ agentId: 836390886, taskId: null },
			{ agentId: 836390886, taskId: -5 },
			{ agentId: 'x1', taskId: 7 },
			{ agentId: 836390886, taskId: good },
		];

		const result = await recallWork({ server, items });

		expect(result.error).toBeUndefined();
		expect(json(result.success).map((item) => item.msgTaskId)).toEqual([good]);
		const failed = result.failed.map((item) => ({ item: item.pairedItem.item, ...item.json }));
		expect(failed.map((item) => item.item)).toEqual([0, 1, 2, 3, 4, 5]);
		for (const item of failed) {
			expect(item).toMatchObject({ recalled: false, errorCode: 'invalidInput' });
			expect(item.errorMessage).toMatch(new RegExp(`^Item ${item.item}: `));
		}
		expect(failed[0].errorMessage).toMatch(/msgTaskId must be a whole number/);
		expect(failed[1].errorMessage).toMatch(/agentId is empty/);
		expect(failed[5].errorMessage).toMatch(/agentId must be a whole number/);
		expect(server.callsTo(PATHS.workNotificationRecall)).toHaveLength(1);
	});

	test('the same task ID and agent ID written with a leading zero are the same notification: one call, both items on Success', async () => {
		server = await startServer({ agents: ['836390886'] });
		const task = server.sendWorkNotification('836390886');
		const items = [
			{ agentId: 836390886, taskId: task },
			{ agentId: '0836390886', taskId: `0${task}` },
		];

		const result = await recallWork({ server, items });

		expect(result.failed).toEqual([]);
		expect(json(result.success).map((item) => [item.agentId, item.msgTaskId, item.recalled])).toEqual([
			[836390886, task, true],
			[836390886, task, true],
		]);
		expect(server.callsTo(PATHS.workNotificationRecall)).toHaveLength(1);
	});

	test('several task IDs in one item (array or comma list) each get their own output item', async () => {
		server = await startServer();
		const ids = [1, 2, 3].map(() => server.sendWorkNotification('836390886'));
		const result = await recallWork({ server, items: [{ agentId: 836390886, taskId: ids.slice(0, 2) }, { agentId: 836390886, taskId: `${ids[2]}, ${ids[0]}` }] });
		expect(result.success.map((item) => [item.pairedItem.item, item.json.msgTaskId])).toEqual([
			[0, ids[0]],
			[0, ids[1]],
			[1, ids[2]],
			[1, ids[0]],
		]);
		expect(server.callsTo(PATHS.workNotificationRecall)).toHaveLength(3);
	});
});
