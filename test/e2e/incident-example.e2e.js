'use strict';
/**
 * The example workflow `examples/incident-alert-recall.json` in a real n8n 2.41.1, as a user runs it: imported
 * from the editor's menu (… → Import → From file), its four DingTalk nodes finding the credential n8n names
 * "DingTalk account", whose Environment is Custom with the test server's base URLs; Settings filled in,
 * published; then an alerting tool's calls to its two webhooks. Checks what DingTalk (the test server) received,
 * what the webhooks answered, what was kept in the data table, what was recalled, who was told about a
 * message that could not be recalled or an alert with no stored messages, and how a refused send stops the run.
 * Saves screenshots for the docs.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { DingTalkServer, PATHS } = require('../support/dingtalk-server');
const { RealN8n } = require('./real-n8n');

const EXAMPLE = path.resolve(__dirname, '../../examples/incident-alert-recall.json');
const SCREENSHOTS = path.resolve(__dirname, '../../docs/screenshots');
const OWNER = { email: 'owner@example.test', firstName: 'Ding', lastName: 'Talk', password: 'E2e-password-1' };
const BROWSER_ID = 'incident-example-e2e';
const ROBOT = 'dingRobotA';
const GROUP = 'cidGroupOps+A1/xyz==';
const ON_CALL = 'manager01';
const NOTICE_NODE = 'Tell the on-call person';

/** A stand-in for wherever "Tell the on-call person" posts (a custom robot's webhook, a chat, a pager). */
async function startNoticeReceiver() {
	const notices = [];
	const server = http.createServer((req, res) => {
		let body = '';
		req.on('data', (chunk) => (body += chunk));
		req.on('end', () => {
			notices.push({ path: req.url, body: JSON.parse(body) });
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{"errcode":0,"errmsg":"ok"}');
		});
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return { notices, url: `http://127.0.0.1:${server.address().port}/robot/send?access_token=notice-robot`, server };
}

/** The example as a user adapts it: Settings filled in, the notice URL theirs. DingTalk's hosts come from the credential. */
function adaptedExample(noticeUrl) {
	const workflow = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
	const settings = { robotCode: ROBOT, openConversationId: GROUP, onCallUserId: ON_CALL };
	for (const node of workflow.nodes) {
		if (node.name === 'Settings') {
			for (const assignment of node.parameters.assignments.assignments) {
				if (assignment.name in settings) assignment.value = settings[assignment.name];
			}
		}
		if (node.name === NOTICE_NODE) node.parameters.url = noticeUrl;
	}
	return workflow;
}

describe('the incident example in a real n8n 2.41.1: alert → sent and kept; resolved → recalled, or a person told', () => {
	let dingTalk;
	let receiver;
	let n8n;
	let cookie;
	let browser;
	let page;
	let workflow;
	let credential;

	/** n8n's REST API as the signed-in owner. */
	async function rest(method, url, body) {
		const response = await fetch(`${n8n.baseUrl}/rest${url}`, {
			method,
			headers: { 'content-type': 'application/json', 'browser-id': BROWSER_ID, ...(cookie ? { cookie } : {}) },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status} ${await response.text()}`);
		cookie ??= response.headers.get('set-cookie')?.split(';')[0];
		return (await response.json()).data;
	}

	async function callWebhook(name, body) {
		const response = await fetch(`${n8n.baseUrl}/webhook/${name}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
		});
		return { status: response.status, body: await response.json() };
	}

	/** Activation registers webhooks a moment after it answers: a GET to a POST webhook says when it is there. */
	async function webhookRegistered(name) {
		const deadline = Date.now() + 30_000;
		while (Date.now() < deadline) {
			const { message } = await (await fetch(`${n8n.baseUrl}/webhook/${name}`)).json();
			if (/Did you mean to make a POST request/.test(message)) return;
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		throw new Error(`webhook ${name} was not registered in time`);
	}

	/** The workflow's executions, oldest first, once `count` of them have finished. */
	async function finishedExecutions(count) {
		const deadline = Date.now() + 60_000;
		for (;;) {
			const filter = encodeURIComponent(JSON.stringify({ workflowId: workflow.id }));
			const { results } = await rest('GET', `/executions?filter=${filter}&limit=50`);
			const finished = results.filter((execution) => execution.finished || ['success', 'error'].includes(execution.status));
			if (finished.length >= count) return finished.sort((a, b) => Number(a.id) - Number(b.id));
			if (Date.now() > deadline) throw new Error(`only ${finished.length} of ${count} executions finished: ${JSON.stringify(results)}`);
			await new Promise((resolve) => setTimeout(resolve, 300));
		}
	}

	/** Each node's main outputs in an execution, as lists of JSON items (flatted, as n8n stores runs). */
	async function outputsOf(executionId) {
		const { parse } = require(path.join(n8n.n8nDir, 'node_modules/flatted'));
		const execution = await rest('GET', `/executions/${executionId}`);
		const { runData } = parse(execution.data).resultData;
		return Object.fromEntries(Object.entries(runData).map(([node, [run]]) => [node, (run.data?.main ?? []).map((items) => (items ?? []).map((item) => item.json))]));
	}

	/** The rows of the example's data table, as n8n's Data tables screen lists them. */
	async function keptRows() {
		const tables = await rest('GET', '/data-tables-global');
		const table = tables.data.find((entry) => entry.name === 'dingtalk_alert_messages');
		return (await rest('GET', `/projects/${table.projectId}/data-tables/${table.id}/rows`)).data;
	}

	/** The recall calls DingTalk received so far (group and one-on-one). */
	const recallCalls = () => [...dingTalk.callsTo(PATHS.groupRecall), ...dingTalk.callsTo(PATHS.batchRecall)];

	beforeAll(async () => {
		dingTalk = await new DingTalkServer().start();
		receiver = await startNoticeReceiver();
		n8n = new RealN8n();
		n8n.installPackage();
		await n8n.start();
		await rest('POST', '/owner/setup', OWNER);
		// Named as n8n names a user's first credential of this type ("DingTalk API" without "API"): the example finds it by name.
		credential = await rest('POST', '/credentials', { name: 'DingTalk account', type: 'dingTalkApi', data: dingTalk.credentialData() });
		workflow = await rest('POST', '/workflows', adaptedExample(receiver.url));
		workflow = await rest('POST', `/workflows/${workflow.id}/activate`, { versionId: workflow.versionId });
		await webhookRegistered('dingtalk-alert');
		await webhookRegistered('dingtalk-alert-resolved');
	}, 900_000);

	afterAll(async () => {
		await browser?.close();
		await n8n?.stop();
		n8n?.cleanUp();
		await dingTalk?.stop();
		await new Promise((resolve) => receiver?.server.close(resolve) ?? resolve());
	});

	test('the file has no HTTP Request node that talks to DingTalk: the Send and Recall nodes do, on the credential’s hosts', () => {
		const example = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
		const byType = (type) => example.nodes.filter((node) => node.type === type).map((node) => node.name).sort();
		expect(byType('n8n-nodes-dingtalk-recall.dingTalkSendMessage')).toEqual(['Message the on-call engineer', 'Post to the on-call group']);
		expect(byType('n8n-nodes-dingtalk-recall.dingTalkRecallMessage')).toEqual(['Recall the group message', 'Recall the one-on-one message']);
		// The notice goes to a custom robot's webhook: not an API of the app.
		expect(byType('n8n-nodes-base.httpRequest')).toEqual([NOTICE_NODE]);
		expect(JSON.stringify(example.nodes.filter((node) => node.name !== NOTICE_NODE))).not.toMatch(/https?:\/\//);
		// No credential ID: n8n matches the name to the user's credential on import.
		const credentials = example.nodes.filter((node) => node.credentials).map((node) => node.credentials);
		expect(credentials).toEqual(Array(4).fill({ dingTalkApi: { id: null, name: 'DingTalk account' } }));
		// The recalls read robotCode and openConversationId from the row by their defaults.
		const recalls = example.nodes.filter((node) => node.type.endsWith('dingTalkRecallMessage'));
		expect(recalls.map((node) => Object.keys(node.parameters).sort())).toEqual(Array(2).fill(['operation', 'options', 'processQueryKeys']));
	});

	test('imported from the editor’s … menu (Import → From file): saved, every DingTalk node on the user’s "DingTalk account"', async () => {
		({ browser, page } = await n8n.openEditor(OWNER, { width: 1600, height: 900 }));
		await page.goto(`${n8n.baseUrl}/workflow/new`);
		await page.getByTestId('workflow-menu').click();
		await page.getByTestId('workflow-menu-item-import').hover();
		const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByTestId('workflow-menu-item-import-from-file').click()]);
		await chooser.setFiles(EXAMPLE);
		const nodes = page.getByTestId('canvas-node');
		await nodes.first().waitFor({ timeout: 60_000 });
		// Every node but the sticky note, which the canvas draws apart.
		const example = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
		expect(await nodes.count()).toBe(example.nodes.filter((node) => node.type !== 'n8n-nodes-base.stickyNote').length);
		// The editor saves the import as a new workflow and shows its ID in the address.
		await page.waitForURL((url) => /^\/workflow\/(?!new)[^/]+$/.test(url.pathname), { timeout: 30_000 });
		await page.waitForTimeout(1500); // let the canvas fit the view
		fs.mkdirSync(SCREENSHOTS, { recursive: true });
		await page.screenshot({ path: path.join(SCREENSHOTS, 'incident-example.png') });

		const imported = await rest('GET', `/workflows/${new URL(page.url()).pathname.split('/').pop()}`);
		expect(imported.name).toBe('Recall DingTalk alerts when the incident resolves');
		for (const saved of [imported, workflow]) {
			const dingTalkNodes = saved.nodes.filter((node) => node.credentials?.dingTalkApi);
			expect(dingTalkNodes.map((node) => node.name).sort()).toEqual([
				'Message the on-call engineer',
				'Post to the on-call group',
				'Recall the group message',
				'Recall the one-on-one message',
			]);
			expect(dingTalkNodes.map((node) => node.credentials.dingTalkApi)).toEqual(Array(4).fill({ id: credential.id, name: 'DingTalk account' }));
		}
		expect(workflow.active).toBe(true);
	});

	let first;
	let second;

	test('two alerts: each sent to the group and to the on-call engineer by the Send node, its IDs kept by alert ID', async () => {
		first = await callWebhook('dingtalk-alert', { alertId: 'INC-1001', title: 'Disk full on db-1', text: '/var is at 100 %.' });
		second = await callWebhook('dingtalk-alert', { alertId: 'INC-1002', title: 'API latency over 2 s', text: 'p99 2.4 s for 5 minutes.' });

		// The webhook answers with the row it kept.
		for (const [{ status, body }, alertId] of [[first, 'INC-1001'], [second, 'INC-1002']]) {
			expect(status).toBe(200);
			expect(body).toEqual(
				expect.objectContaining({ id: expect.any(Number), alertId, robotCode: ROBOT, openConversationId: GROUP, groupKey: expect.any(String), oneOnOneKey: expect.any(String) }),
			);
			expect(dingTalk.robotMessages.get(body.groupKey)).toEqual(expect.objectContaining({ chat: 'group', openConversationId: GROUP, robotCode: ROBOT, recalled: false }));
			expect(dingTalk.robotMessages.get(body.oneOnOneKey)).toEqual(expect.objectContaining({ chat: 'oto', robotCode: ROBOT, recalled: false }));
		}

		// What DingTalk received: one group message and one one-on-one message per alert, on the credential's token.
		const groupSends = dingTalk.callsTo(PATHS.groupSend);
		const oneOnOneSends = dingTalk.callsTo(PATHS.batchSend);
		expect([...groupSends, ...oneOnOneSends]).toHaveLength(4);
		expect([...groupSends, ...oneOnOneSends].every((call) => call.status === 200 && call.headerToken && call.queryToken === undefined)).toBe(true);
		expect(groupSends.map((call) => call.body)).toEqual([
			{
				robotCode: ROBOT,
				openConversationId: GROUP,
				msgKey: 'sampleMarkdown',
				msgParam: JSON.stringify({ title: 'Disk full on db-1', text: '### Disk full on db-1\n\n/var is at 100 %.\n\nAlert INC-1001' }),
			},
			{
				robotCode: ROBOT,
				openConversationId: GROUP,
				msgKey: 'sampleMarkdown',
				msgParam: JSON.stringify({ title: 'API latency over 2 s', text: '### API latency over 2 s\n\np99 2.4 s for 5 minutes.\n\nAlert INC-1002' }),
			},
		]);
		expect(oneOnOneSends.map((call) => call.body)).toEqual([
			{ robotCode: ROBOT, userIds: [ON_CALL], msgKey: 'sampleText', msgParam: JSON.stringify({ content: 'Disk full on db-1 (alert INC-1001)' }) },
			{ robotCode: ROBOT, userIds: [ON_CALL], msgKey: 'sampleText', msgParam: JSON.stringify({ content: 'API latency over 2 s (alert INC-1002)' }) },
		]);
		expect(dingTalk.inbox.get(GROUP)).toEqual([first.body.groupKey, second.body.groupKey].map((id) => ({ kind: 'robot', id })));
		expect(dingTalk.inbox.get(ON_CALL)).toEqual([first.body.oneOnOneKey, second.body.oneOnOneKey].map((id) => ({ kind: 'robot', id })));

		// The Send nodes' Success items carry the IDs, named as the Recall node reads them.
		const [alerted] = await finishedExecutions(2);
		expect(alerted.status).toBe('success');
		const outputs = await outputsOf(alerted.id);
		expect(outputs['Post to the on-call group']).toEqual([
			[expect.objectContaining({ operation: 'sendRobotGroupMessage', sent: true, processQueryKey: first.body.groupKey, robotCode: ROBOT, openConversationId: GROUP })],
			[],
		]);
		expect(outputs['Message the on-call engineer']).toEqual([
			[expect.objectContaining({ operation: 'sendRobotOneOnOneMessage', sent: true, processQueryKey: first.body.oneOnOneKey, robotCode: ROBOT, userIds: [ON_CALL] })],
			[],
		]);

		// The IDs are in n8n's data table, one row per alert.
		expect((await keptRows()).map(({ alertId, robotCode, openConversationId, groupKey, oneOnOneKey }) => ({ alertId, robotCode, openConversationId, groupKey, oneOnOneKey }))).toEqual(
			[first.body, second.body].map(({ alertId, robotCode, openConversationId, groupKey, oneOnOneKey }) => ({ alertId, robotCode, openConversationId, groupKey, oneOnOneKey })),
		);
	});

	test('INC-1001 resolved: both its messages recalled by the Recall node with its defaults, nobody bothered', async () => {
		const answer = await callWebhook('dingtalk-alert-resolved', { alertId: 'INC-1001' });
		expect(answer).toEqual({ status: 200, body: { message: 'Workflow was started' } });
		const [, , resolved] = await finishedExecutions(3);

		expect(resolved.status).toBe('success');
		const outputs = await outputsOf(resolved.id);
		expect(outputs['Messages kept?']).toEqual([[expect.objectContaining({ alertId: 'INC-1001', groupKey: first.body.groupKey })], []]);
		expect(outputs['Recall the group message']).toEqual([
			[expect.objectContaining({ processQueryKey: first.body.groupKey, openConversationId: GROUP, robotCode: ROBOT, recalled: true })],
			[],
		]);
		expect(outputs['Recall the one-on-one message']).toEqual([[expect.objectContaining({ processQueryKey: first.body.oneOnOneKey, robotCode: ROBOT, recalled: true })], []]);
		expect(outputs[NOTICE_NODE]).toBeUndefined();
		expect(dingTalk.callsTo(PATHS.groupRecall).map((call) => call.body)).toEqual([{ robotCode: ROBOT, openConversationId: GROUP, processQueryKeys: [first.body.groupKey] }]);
		expect(dingTalk.callsTo(PATHS.batchRecall).map((call) => call.body)).toEqual([{ robotCode: ROBOT, processQueryKeys: [first.body.oneOnOneKey] }]);
		expect(dingTalk.isRecalled(first.body.groupKey)).toBe(true);
		expect(dingTalk.isRecalled(first.body.oneOnOneKey)).toBe(true);
		expect(dingTalk.isRecalled(second.body.groupKey)).toBe(false);
		expect(receiver.notices).toEqual([]);
	});

	test('INC-1002 resolved more than a day later, when DingTalk no longer recalls its messages: a person is told', async () => {
		// DingTalk recalls a robot's message for 24 hours after it was sent.
		for (const key of [second.body.groupKey, second.body.oneOnOneKey]) dingTalk.robotMessages.get(key).sentAt -= 25 * 60 * 60 * 1000;

		await callWebhook('dingtalk-alert-resolved', { alertId: 'INC-1002' });
		const [, , , resolved] = await finishedExecutions(4);

		expect(resolved.status).toBe('success');
		const outputs = await outputsOf(resolved.id);
		expect(outputs['Recall the group message']).toEqual([
			[],
			[expect.objectContaining({ processQueryKey: second.body.groupKey, recalled: false, errorCode: 'processQueryKey.expireTime' })],
		]);
		expect(outputs['Recall the one-on-one message']).toEqual([
			[],
			[expect.objectContaining({ processQueryKey: second.body.oneOnOneKey, recalled: false, errorCode: 'robot.processQueryKey.expired' })],
		]);
		expect(dingTalk.isRecalled(second.body.groupKey)).toBe(false);
		expect(dingTalk.isRecalled(second.body.oneOnOneKey)).toBe(false);
		expect(receiver.notices.map((notice) => notice.body.msgtype)).toEqual(['text', 'text']);
		const failed = [outputs['Recall the group message'][1][0], outputs['Recall the one-on-one message'][1][0]];
		expect(failed[0].errorMessage).toMatch(/older than 24 hours/);
		expect(receiver.notices.map((notice) => notice.body.text.content)).toEqual(
			failed.map(
				({ processQueryKey, errorCode, errorMessage }) =>
					`Alert INC-1002 is resolved, but its DingTalk message ${processQueryKey} could not be recalled (${errorCode}). ${errorMessage} Please recall it by hand.`,
			),
		);
		const token = dingTalk.tokenOfApp.get('ding-app-key');
		expect(JSON.stringify([receiver.notices, outputs])).not.toContain(token);
	});

	test('an alert ID the table never stored: nothing to recall, and the on-call person is told so', async () => {
		const recallsBefore = recallCalls().length;
		const answer = await callWebhook('dingtalk-alert-resolved', { alertId: 'INC-0404' });
		expect(answer).toEqual({ status: 200, body: { message: 'Workflow was started' } });
		const [, , , , resolved] = await finishedExecutions(5);

		const outputs = await outputsOf(resolved.id);
		// "Always Output Data" gives an empty item where no row came back; the IF sends it to the notice.
		expect(outputs["Find the alert's messages"]).toEqual([[{}]]);
		expect(outputs['Messages kept?']).toEqual([[], [{}]]);
		expect(outputs['Recall the group message']).toBeUndefined();
		expect(outputs['Recall the one-on-one message']).toBeUndefined();
		expect(outputs[NOTICE_NODE]).toEqual([[expect.any(Object)]]);
		expect(recallCalls()).toHaveLength(recallsBefore);
		expect(receiver.notices.slice(2).map((notice) => notice.body)).toEqual([
			{
				msgtype: 'text',
				text: { content: 'Alert INC-0404 is resolved, but no DingTalk messages are stored for it, so none were recalled. If any were sent, please recall them by hand.' },
			},
		]);
	});

	test('DingTalk refuses the group post (the robot left the group): the run stops with an error naming the alert and why, nothing kept', async () => {
		const conversation = dingTalk.conversations.get(GROUP);
		conversation.robots.delete(ROBOT);
		const oneOnOneSends = dingTalk.callsTo(PATHS.batchSend).length;
		try {
			const answer = await callWebhook('dingtalk-alert', { alertId: 'INC-1003', title: 'Queue stuck', text: 'Jobs waiting for 10 minutes.' });
			// n8n answers an execution that stopped with an error so; the alerting tool sees the alert was not delivered.
			expect(answer).toEqual({ status: 500, body: { message: 'Error in workflow' } });
		} finally {
			conversation.robots.add(ROBOT);
		}
		const [, , , , , refused] = await finishedExecutions(6);

		expect(refused.status).toBe('error');
		const outputs = await outputsOf(refused.id);
		expect(outputs['Post to the on-call group']).toEqual([
			[],
			[expect.objectContaining({ sent: false, errorCode: 'invalid.openConversationId', openConversationId: GROUP })],
		]);
		expect(outputs['Message the on-call engineer']).toBeUndefined();
		expect(outputs['Keep the keys by alert ID']).toBeUndefined();
		const { parse } = require(path.join(n8n.n8nDir, 'node_modules/flatted'));
		const { error, lastNodeExecuted } = parse((await rest('GET', `/executions/${refused.id}`)).data).resultData;
		expect(lastNodeExecuted).toBe('Alert not sent');
		expect(error.message).toBe(
			`Alert INC-1003 was not sent to the group (invalid.openConversationId). ${outputs['Post to the on-call group'][1][0].errorMessage}`,
		);
		expect(dingTalk.callsTo(PATHS.batchSend)).toHaveLength(oneOnOneSends);

		expect((await keptRows()).map((row) => row.alertId)).toEqual(['INC-1001', 'INC-1002']);
	});

	test('screenshot of the run that told a person', async () => {
		const [, , , expired] = await finishedExecutions(5);
		await page.goto(`${n8n.baseUrl}/workflow/${workflow.id}/executions/${expired.id}`);
		await page.getByText(NOTICE_NODE).first().waitFor({ timeout: 60_000 });
		await page.waitForTimeout(2000);
		// n8n's Production Checklist pops up over a published workflow's executions: closed, it hides no node.
		const closeChecklist = page.getByTestId('suggested-actions-close');
		if (await closeChecklist.isVisible()) {
			await closeChecklist.click();
			await page.waitForTimeout(500);
		}
		await page.screenshot({ path: path.join(SCREENSHOTS, 'incident-example-run.png') });
	});
});
