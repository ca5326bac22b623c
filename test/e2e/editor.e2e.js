'use strict';
/**
 * The node in n8n's editor, in headless Chromium (Debian's, driven by playwright-core; never a browser
 * download): add it to a workflow from the nodes panel, open it for each operation, check that each
 * shows its parameters and only those, and save screenshots for the README.
 */
const fs = require('node:fs');
const path = require('node:path');
const { DingTalkServer } = require('../support/dingtalk-server');
const { RealN8n } = require('./real-n8n');

const SCREENSHOTS = path.resolve(__dirname, '../../docs/screenshots');
const OWNER = { email: 'owner@example.test', firstName: 'Ding', lastName: 'Talk', password: 'E2e-password-1' };

/** The node's own parameters, and the ones each operation must show (the rest must not be there). */
const NODE_PARAMETERS = ['operation', 'robotCode', 'openConversationId', 'processQueryKeys', 'openDingIds', 'agentId', 'msgTaskId'];
const SHOWN = {
	recallRobotDingMessages: ['operation', 'robotCode', 'openDingIds'],
	recallRobotGroupMessages: ['operation', 'robotCode', 'openConversationId', 'processQueryKeys'],
	recallRobotOneOnOneMessages: ['operation', 'robotCode', 'processQueryKeys'],
	recallRobotPrivateChatMessages: ['operation', 'robotCode', 'openConversationId', 'processQueryKeys'],
	recallWorkNotification: ['operation', 'agentId', 'msgTaskId'],
};
/** The Send node's own parameters, and the ones each operation must show (Text for the default message type). */
const SEND_PARAMETERS = ['operation', 'robotCode', 'openConversationId', 'agentId', 'userIds', 'remindType', 'content', 'messageType', 'title', 'text', 'msgKey', 'msgParam', 'msg'];
const SEND_SHOWN = {
	sendRobotDingMessage: ['operation', 'robotCode', 'userIds', 'remindType', 'content'],
	sendRobotGroupMessage: ['operation', 'robotCode', 'openConversationId', 'messageType', 'text'],
	sendRobotOneOnOneMessage: ['operation', 'robotCode', 'userIds', 'messageType', 'text'],
	sendWorkNotification: ['operation', 'agentId', 'userIds', 'messageType', 'text'],
};
/** What "Add option" offers: Batch Size only where calls carry several keys, Check Unclear Outcomes where DingTalk has a read status. */
const OPTIONS = {
	recallRobotDingMessages: ['Parallel Calls', 'Retries', 'Retry Delay (Ms)', 'Timeout (Ms)'],
	recallRobotGroupMessages: ['Batch Size', 'Check Unclear Outcomes', 'Parallel Calls', 'Retries', 'Retry Delay (Ms)', 'Timeout (Ms)'],
	recallRobotOneOnOneMessages: ['Batch Size', 'Check Unclear Outcomes', 'Parallel Calls', 'Retries', 'Retry Delay (Ms)', 'Timeout (Ms)'],
	recallRobotPrivateChatMessages: ['Batch Size', 'Check Unclear Outcomes', 'Parallel Calls', 'Retries', 'Retry Delay (Ms)', 'Timeout (Ms)'],
	recallWorkNotification: ['Parallel Calls', 'Retries', 'Retry Delay (Ms)', 'Timeout (Ms)'],
};

describe('the node in n8n’s editor', () => {
	let n8n;
	let browser;
	let page;
	let dingTalk;

	beforeAll(async () => {
		dingTalk = await new DingTalkServer().start();
		n8n = new RealN8n();
		n8n.installPackage();
		await n8n.start();
		const setup = await fetch(`${n8n.baseUrl}/rest/owner/setup`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(OWNER),
		});
		expect(setup.ok).toBe(true);
		({ browser, page } = await n8n.openEditor(OWNER));
		fs.mkdirSync(SCREENSHOTS, { recursive: true });
	}, 900_000);

	afterAll(async () => {
		await dingTalk?.stop();
		await browser?.close();
		await n8n?.stop();
		n8n?.cleanUp();
	});

	/** A call to n8n's REST API from the signed-in page, as the editor makes it (with its browser-id). */
	async function rest(url, body) {
		return await page.evaluate(
			async ({ url, body }) => {
				const response = await fetch(url, {
					method: 'POST',
					headers: { 'content-type': 'application/json', 'browser-id': localStorage.getItem('n8n-browserId') ?? '' },
					body: JSON.stringify(body),
				});
				if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
				return (await response.json()).data;
			},
			{ url, body },
		);
	}

	/** Opens the nodes panel on an empty canvas, searches for `search`, and lists the nodes it finds. */
	async function searchNodes(search) {
		await page.goto(`${n8n.baseUrl}/workflow/new`);
		const plus = page.getByTestId('canvas-plus-button');
		await plus.waitFor({ timeout: 60_000 });
		await plus.click();
		await page.getByTestId('node-creator-search-bar').fill(search);
		await page.getByTestId('node-creator-item-name').first().waitFor({ timeout: 30_000 });
		await page.waitForTimeout(700); // let the panel finish sliding in
		return (await page.getByTestId('node-creator-item-name').allInnerTexts()).map((text) => text.trim());
	}

	/** Picks one of `node`'s actions in the nodes panel (the screenshots are the recall node's). */
	async function addNode(action, node = 'DingTalk Recall Message') {
		await searchNodes('DingTalk');
		const item = page.getByTestId('node-creator-item-name').filter({ hasText: node }).first();
		if (node === 'DingTalk Recall Message') await page.getByTestId('node-creator').screenshot({ path: path.join(SCREENSHOTS, 'nodes-panel.png') });
		await item.click();
		const actionItem = page.getByTestId('node-creator').getByText(action, { exact: true });
		await actionItem.waitFor({ timeout: 30_000 });
		await page.waitForTimeout(700);
		if (node === 'DingTalk Recall Message') await page.getByTestId('node-creator').screenshot({ path: path.join(SCREENSHOTS, 'actions.png') });
		await actionItem.click();
		await page.getByTestId('node-parameters').waitFor({ timeout: 30_000 });
	}

	/** The node's parameters that the node panel shows, of `names`. */
	async function shownParameters(names = NODE_PARAMETERS) {
		const shown = [];
		for (const name of names) {
			const input = page.getByTestId('node-parameters').locator(`[data-test-id="parameter-input-${name}"], [data-test-id="${name}-parameter-input-options-container"]`);
			if ((await input.count()) && (await input.first().isVisible())) shown.push(name);
		}
		return shown;
	}

	test.each([
		['recallRobotDingMessages', 'Recall DING messages a robot sent', 'Recall Robot DING Messages', 'ding-operation.png'],
		['recallRobotGroupMessages', 'Recall robot messages sent to group chats', 'Recall Robot Group Messages', 'group-operation.png'],
		['recallRobotOneOnOneMessages', 'Recall robot messages sent to individual users', 'Recall Robot One-on-One Messages', 'robot-operation.png'],
		['recallRobotPrivateChatMessages', 'Recall robot messages sent in private chats between two people', 'Recall Robot Private Chat Messages', 'private-chat-operation.png'],
		['recallWorkNotification', 'Recall a work notification', 'Recall Work Notification', 'work-notification-operation.png'],
	])('%s: added from the nodes panel, the node shows its parameters and only those', async (operation, action, operationName, screenshot) => {
		await addNode(action);
		const parameters = page.getByTestId('node-parameters');
		await expect(parameters.getByTestId('parameter-input-operation').locator('input').inputValue()).resolves.toBe(operationName);
		await expect(shownParameters()).resolves.toEqual(SHOWN[operation]);
		await expect(parameters.getByTestId('node-credentials-slot').innerText()).resolves.toMatch(/DingTalk/);
		await parameters.screenshot({ path: path.join(SCREENSHOTS, screenshot) });

		await parameters.getByTestId('collection-parameter-add').click();
		const offered = page.getByTestId('collection-parameter-option');
		await offered.first().waitFor({ timeout: 10_000 });
		expect((await offered.allInnerTexts()).map((text) => text.trim())).toEqual(OPTIONS[operation]);
	});

	test.each([
		['sendRobotDingMessage', 'Send a DING from a robot', 'Send Robot DING Message'],
		['sendRobotGroupMessage', 'Send a robot message to a group chat', 'Send Robot Group Message'],
		['sendRobotOneOnOneMessage', 'Send a robot message to people one on one', 'Send Robot One-on-One Message'],
		['sendWorkNotification', 'Send a work notification', 'Send Work Notification'],
	])('%s: the Send node, added from the nodes panel, shows its parameters and only those', async (operation, action, operationName) => {
		await addNode(action, 'DingTalk Send Message');
		const parameters = page.getByTestId('node-parameters');
		await expect(parameters.getByTestId('parameter-input-operation').locator('input').inputValue()).resolves.toBe(operationName);
		await expect(shownParameters(SEND_PARAMETERS)).resolves.toEqual(SEND_SHOWN[operation]);
		if (operation === 'sendRobotOneOnOneMessage') await parameters.screenshot({ path: path.join(SCREENSHOTS, 'send-operation.png') });
	});

	test('the nodes panel finds the DingTalk nodes by the words users type: 钉钉, 撤回, 发送', async () => {
		await expect(searchNodes('钉钉')).resolves.toEqual(expect.arrayContaining(['DingTalk Recall Message', 'DingTalk Send Message']));
		await expect(searchNodes('撤回')).resolves.toEqual(expect.arrayContaining(['DingTalk Recall Message']));
		await expect(searchNodes('发送')).resolves.toEqual(expect.arrayContaining(['DingTalk Send Message']));
	});

	test('the credential’s Test button: good keys pass; a failed test says what to fix, with DingTalk’s code and the URL', async () => {
		// What /rest/credentials/test answers is what the editor shows under "More details".
		const test = async (data) => {
			const { id } = await rest('/rest/credentials', { name: `DingTalk test ${Date.now()}`, type: 'dingTalkApi', data });
			return await rest('/rest/credentials/test', { credentials: { id, name: 'DingTalk test', type: 'dingTalkApi', data } });
		};
		await expect(test(dingTalk.credentialData())).resolves.toMatchObject({ status: 'OK' });
		const wrong = await test(dingTalk.credentialData({ clientSecret: 'not-the-secret' }));
		expect(wrong.status).toBe('Error');
		expect(wrong.message).toMatch(/invalidClientIdOrSecret/);
		expect(wrong.message).toMatch(/无效的clientId或者clientSecret/);
		expect(wrong.message).toMatch(/Check the credential's Client ID and Client Secret/);
		expect(wrong.message).not.toContain('not-the-secret');
		const unreachable = await test(dingTalk.credentialData({ apiBaseUrl: 'http://127.0.0.1:9' }));
		expect(unreachable).toMatchObject({ status: 'Error', message: expect.stringMatching(/could not reach http:\/\/127\.0\.0\.1:9 \(connection refused\).*API Base URL/) });
		// A Custom environment's base URLs are required: n8n refuses to save the credential without them.
		const empty = dingTalk.credentialData({ apiBaseUrl: '', oapiBaseUrl: '' });
		await expect(rest('/rest/credentials', { name: 'DingTalk without URLs', type: 'dingTalkApi', data: empty })).rejects.toThrow(/apiBaseUrl.*mandatory/);
		// A credential tested without them (being edited, or made through the API) says what to fill in.
		const { id } = await rest('/rest/credentials', { name: `DingTalk test ${Date.now()}`, type: 'dingTalkApi', data: dingTalk.credentialData() });
		await expect(rest('/rest/credentials/test', { credentials: { id, name: 'DingTalk test', type: 'dingTalkApi', data: empty } })).resolves.toMatchObject({
			status: 'Error',
			message: expect.stringMatching(/its API Base URL is empty.*fill in API Base URL and OAPI Base URL/),
		});
	});

	test('a run from the editor: recalled keys on Success (one recalled before, marked alreadyRecalled), the others on Failed with the reason', async () => {
		const keys = dingTalk.sendRobotMessages('dingRobotA', 4);
		dingTalk.robotMessages.get(keys[3]).recalled = true;
		const otherRobots = dingTalk.sendRobotMessage('dingRobotB');
		const credential = await rest('/rest/credentials', { name: 'DingTalk (test server)', type: 'dingTalkApi', data: dingTalk.credentialData() });
		const workflow = await rest('/rest/workflows', {
			name: 'Recall the false alarm',
			settings: { executionOrder: 'v1' },
			connections: {
				'When clicking ‘Execute workflow’': { main: [[{ node: 'Alerts', type: 'main', index: 0 }]] },
				Alerts: { main: [[{ node: 'One item per alert', type: 'main', index: 0 }]] },
				'One item per alert': { main: [[{ node: 'DingTalk Recall Message', type: 'main', index: 0 }]] },
			},
			nodes: [
				{ id: 'n1', name: 'When clicking ‘Execute workflow’', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
				{ id: 'n2', name: 'Alerts', type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [220, 0], parameters: { mode: 'raw', jsonOutput: JSON.stringify({ alerts: [...keys, otherRobots, 'a-key-DingTalk-never-issued'].map((key) => ({ processQueryKey: key })) }), options: {} } },
				{ id: 'n3', name: 'One item per alert', type: 'n8n-nodes-base.splitOut', typeVersion: 1, position: [440, 0], parameters: { fieldToSplitOut: 'alerts', options: {} } },
				{
					id: 'n4',
					name: 'DingTalk Recall Message',
					type: 'n8n-nodes-dingtalk-recall.dingTalkRecallMessage',
					typeVersion: 1,
					position: [660, 0],
					parameters: { operation: 'recallRobotOneOnOneMessages', robotCode: 'dingRobotA', processQueryKeys: '={{ $json.processQueryKey }}', options: {} },
					credentials: { dingTalkApi: { id: credential.id, name: credential.name } },
				},
			],
		});

		await page.goto(`${n8n.baseUrl}/workflow/${workflow.id}`);
		await page.getByTestId('execute-workflow-button').click();
		await page.getByTestId('canvas-node').filter({ hasText: 'DingTalk Recall Message' }).dblclick();
		const output = page.getByTestId('output-panel');
		await output.getByText('Success', { exact: false }).first().waitFor({ timeout: 60_000 });
		await page.waitForTimeout(1000);
		await page.getByTestId('ndv').screenshot({ path: path.join(SCREENSHOTS, 'run-outputs.png') });
		const text = await output.innerText();
		expect(text).toMatch(/Success Branch \(4 items\)/);
		expect(text).toMatch(/Failed Branch \(2 items\)/);
		expect(text).toMatch(/alreadyRecalled/);
		expect(keys.every((key) => dingTalk.isRecalled(key))).toBe(true);

		await output.getByText('Failed Branch', { exact: false }).click();
		await output.getByText('invalid.processQueryKey').first().waitFor({ timeout: 10_000 });
		expect(await output.innerText()).toMatch(/not\.allowed\.robotCode/);
		await output.getByText('JSON', { exact: true }).click();
		await page.waitForTimeout(500);
		await output.screenshot({ path: path.join(SCREENSHOTS, 'run-failed-branch.png') });
	});
});
