'use strict';
/**
 * The example workflow `examples/incident-alert-recall.json` in a real n8n 2.41.1, as a user runs it: imported
 * through the REST API the editor uses, its DingTalk nodes finding the credential named "DingTalk API account",
 * Settings filled in, activated; then an alerting tool's calls to its two webhooks. Checks what DingTalk (the
 * test server) received, what the webhooks answered, what the executions did, and who was told about a
 * message that could not be recalled. Saves screenshots of the workflow for the README.
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

/** The example as a user adapts it: Settings filled in; DingTalk's hosts and the notice URL point at the test servers. */
function adaptedExample(dingTalk, noticeUrl) {
	const workflow = JSON.parse(fs.readFileSync(EXAMPLE, 'utf8'));
	const settings = { robotCode: ROBOT, openConversationId: GROUP, onCallUserId: 'manager01' };
	for (const node of workflow.nodes) {
		if (node.name === 'Settings') {
			for (const assignment of node.parameters.assignments.assignments) {
				if (assignment.name in settings) assignment.value = settings[assignment.name];
			}
		}
		if (node.name === 'Tell the on-call person') node.parameters.url = noticeUrl;
		else if (typeof node.parameters.url === 'string') node.parameters.url = node.parameters.url.replace('https://api.dingtalk.com', dingTalk.apiBaseUrl);
	}
	return workflow;
}

describe('the incident example in a real n8n 2.41.1: alert → sent and kept; resolved → recalled, or a person told', () => {
	let dingTalk;
	let receiver;
	let n8n;
	let cookie;
	let browser;
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

	beforeAll(async () => {
		dingTalk = await new DingTalkServer().start();
		receiver = await startNoticeReceiver();
		n8n = new RealN8n();
		n8n.installPackage();
		await n8n.start();
		await rest('POST', '/owner/setup', OWNER);
		// Named as n8n names a user's first credential of this type: the example's DingTalk nodes find it by name.
		credential = await rest('POST', '/credentials', { name: 'DingTalk API account', type: 'dingTalkApi', data: dingTalk.credentialData() });
		workflow = await rest('POST', '/workflows', adaptedExample(dingTalk, receiver.url));
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

	let asImported;

	test('imported as is and as adapted, every DingTalk node finds the user’s credential; the adapted one activated', async () => {
		asImported = await rest('POST', '/workflows', JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')));
		for (const imported of [asImported, workflow]) {
			const dingTalkNodes = imported.nodes.filter((node) => node.credentials?.dingTalkApi);
			expect(dingTalkNodes.map((node) => node.name).sort()).toEqual([
				'Message the on-call engineer',
				'Post to the on-call group',
				'Recall the group message',
				'Recall the one-on-one message',
			]);
			expect(dingTalkNodes.every((node) => node.credentials.dingTalkApi.id === credential.id)).toBe(true);
		}
		expect(workflow.active).toBe(true);
	});

	let first;
	let second;

	test('two alerts: each posted to the group and to the on-call engineer, its keys kept by alert ID', async () => {
		first = await callWebhook('dingtalk-alert', { alertId: 'INC-1001', title: 'Disk full on db-1', text: '/var is at 100 %.' });
		second = await callWebhook('dingtalk-alert', { alertId: 'INC-1002', title: 'API latency over 2 s', text: 'p99 2.4 s for 5 minutes.' });

		for (const [{ status, body }, alertId] of [[first, 'INC-1001'], [second, 'INC-1002']]) {
			expect(status).toBe(200);
			expect(body).toEqual(expect.objectContaining({ alertId, robotCode: ROBOT, openConversationId: GROUP, id: expect.any(Number) }));
			expect(dingTalk.robotMessages.get(body.groupKey)).toEqual(expect.objectContaining({ chat: 'group', openConversationId: GROUP, robotCode: ROBOT, recalled: false }));
			expect(dingTalk.robotMessages.get(body.oneOnOneKey)).toEqual(expect.objectContaining({ chat: 'oto', robotCode: ROBOT, recalled: false }));
		}
		const sends = [...dingTalk.callsTo(PATHS.groupSend), ...dingTalk.callsTo(PATHS.batchSend)];
		expect(sends).toHaveLength(4);
		expect(sends.every((call) => call.status === 200 && call.headerToken && call.queryToken === undefined)).toBe(true);
		expect(dingTalk.callsTo(PATHS.groupSend)[0].body).toEqual({
			robotCode: ROBOT,
			openConversationId: GROUP,
			msgKey: 'sampleMarkdown',
			msgParam: JSON.stringify({ title: 'Disk full on db-1', text: '### Disk full on db-1\n\n/var is at 100 %.\n\nAlert INC-1001' }),
		});
		expect(dingTalk.callsTo(PATHS.batchSend)[0].body).toEqual(expect.objectContaining({ robotCode: ROBOT, userIds: ['manager01'], msgKey: 'sampleText' }));

		// The keys are in n8n's data table, one row per alert.
		const tables = await rest('GET', '/data-tables-global');
		const table = tables.data.find((entry) => entry.name === 'dingtalk_alert_messages');
		const rows = await rest('GET', `/projects/${table.projectId}/data-tables/${table.id}/rows`);
		expect(rows.data.map((row) => [row.alertId, row.groupKey, row.oneOnOneKey])).toEqual([
			['INC-1001', first.body.groupKey, first.body.oneOnOneKey],
			['INC-1002', second.body.groupKey, second.body.oneOnOneKey],
		]);
	});

	test('INC-1001 resolved: both its messages recalled, nobody bothered', async () => {
		const answer = await callWebhook('dingtalk-alert-resolved', { alertId: 'INC-1001' });
		expect(answer).toEqual({ status: 200, body: { message: 'Workflow was started' } });
		const [, , resolved] = await finishedExecutions(3);

		expect(resolved.status).toBe('success');
		const outputs = await outputsOf(resolved.id);
		expect(outputs['Recall the group message']).toEqual([
			[expect.objectContaining({ processQueryKey: first.body.groupKey, openConversationId: GROUP, robotCode: ROBOT, recalled: true })],
			[],
		]);
		expect(outputs['Recall the one-on-one message']).toEqual([[expect.objectContaining({ processQueryKey: first.body.oneOnOneKey, recalled: true })], []]);
		expect(outputs['Tell the on-call person']).toBeUndefined();
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

	test('screenshots of the workflow and of the run that told a person', async () => {
		let page;
		({ browser, page } = await n8n.openEditor(OWNER, { width: 1600, height: 900 }));
		fs.mkdirSync(SCREENSHOTS, { recursive: true });

		// The workflow as a user sees it right after importing the file.
		await page.goto(`${n8n.baseUrl}/workflow/${asImported.id}`);
		const nodes = page.getByTestId('canvas-node');
		await nodes.first().waitFor({ timeout: 60_000 });
		expect(await nodes.count()).toBe(11);
		await page.waitForTimeout(1500); // let the canvas fit the view
		await page.screenshot({ path: path.join(SCREENSHOTS, 'incident-example.png') });

		const [, , , last] = await finishedExecutions(4);
		await page.goto(`${n8n.baseUrl}/workflow/${workflow.id}/executions/${last.id}`);
		await page.getByText('Tell the on-call person').first().waitFor({ timeout: 60_000 });
		await page.waitForTimeout(2000);
		await page.screenshot({ path: path.join(SCREENSHOTS, 'incident-example-run.png') });
	});
});
