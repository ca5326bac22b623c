'use strict';
/**
 * The node in n8n's editor, in headless Chromium (Debian's, driven by playwright-core; never a browser
 * download): add it to a workflow from the nodes panel, open it for each operation, check that each
 * shows its parameters and only those, and save screenshots for the README.
 */
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { RealN8n } = require('./real-n8n');

const SCREENSHOTS = path.resolve(__dirname, '../../docs/screenshots');
const OWNER = { email: 'owner@example.test', firstName: 'Ding', lastName: 'Talk', password: 'E2e-password-1' };

const PARAMETERS = {
	recallRobotOneOnOneMessages: { shown: ['Robot Code', 'Process Query Keys'], hidden: ['Agent ID', 'Message Task ID'] },
	recallWorkNotification: { shown: ['Agent ID', 'Message Task ID'], hidden: ['Robot Code', 'Process Query Keys'] },
};

describe('the node in n8n’s editor', () => {
	let n8n;
	let browser;
	let page;

	beforeAll(async () => {
		n8n = new RealN8n();
		n8n.installPackage();
		await n8n.start();
		const setup = await fetch(`${n8n.baseUrl}/rest/owner/setup`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(OWNER),
		});
		expect(setup.ok).toBe(true);
		browser = await chromium.launch({
			executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
			args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
		});
		page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
		await page.goto(`${n8n.baseUrl}/signin`);
		await page.getByTestId('email').locator('input').fill(OWNER.email);
		await page.getByTestId('password').locator('input').fill(OWNER.password);
		await page.getByTestId('form-submit-button').click();
		await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: 60_000 });
		fs.mkdirSync(SCREENSHOTS, { recursive: true });
	}, 900_000);

	afterAll(async () => {
		await browser?.close();
		await n8n?.stop();
		n8n?.cleanUp();
	});

	async function dismissPopups() {
		for (const name of [/skip/i, /got it/i, /close/i]) {
			const button = page.getByRole('button', { name }).first();
			if (await button.isVisible().catch(() => false)) await button.click().catch(() => {});
		}
	}

	/** Opens the nodes panel on an empty canvas, searches for the node and picks an action. */
	async function addNode(action) {
		await page.goto(`${n8n.baseUrl}/workflow/new`);
		await page.waitForSelector('[data-test-id="canvas-plus-button"], [data-test-id="canvas-add-button"]', { timeout: 60_000 });
		await dismissPopups();
		await page.locator('[data-test-id="canvas-plus-button"], [data-test-id="canvas-add-button"]').first().click();
		await page.getByTestId('node-creator-search-bar').fill('DingTalk');
		const item = page.getByTestId('node-creator-item-name').filter({ hasText: 'DingTalk Recall Message' }).first();
		await item.waitFor({ timeout: 30_000 });
		await page.screenshot({ path: path.join(SCREENSHOTS, 'nodes-panel.png') });
		await item.click();
		const actionItem = page.getByTestId('node-creator-action-item').filter({ hasText: action }).first();
		await actionItem.waitFor({ timeout: 30_000 });
		await page.screenshot({ path: path.join(SCREENSHOTS, 'actions.png') });
		await actionItem.click();
		await page.getByTestId('ndv').waitFor({ timeout: 30_000 });
		await page.waitForTimeout(1000);
	}

	async function visibleLabels() {
		return await page.getByTestId('ndv').locator('[data-test-id="parameter-item"] label, [data-test-id="parameter-item"] .n8n-input-label').allInnerTexts();
	}

	test.each([
		['recallRobotOneOnOneMessages', 'Recall robot messages sent in private chats', 'robot-operation.png'],
		['recallWorkNotification', 'Recall a work notification', 'work-notification-operation.png'],
	])('%s: the node panel shows its parameters and only those', async (operation, action, screenshot) => {
		await addNode(action);
		const ndv = page.getByTestId('ndv');
		for (const label of PARAMETERS[operation].shown) await expect(ndv.getByText(label, { exact: true }).first().isVisible()).resolves.toBe(true);
		for (const label of PARAMETERS[operation].hidden) await expect(ndv.getByText(label, { exact: true }).count()).resolves.toBe(0);
		await expect(ndv.getByText('Add option', { exact: false }).first().isVisible()).resolves.toBe(true);
		const labels = await visibleLabels();
		expect(labels.join(' | ')).toMatch(/Credential to connect with/);
		await page.screenshot({ path: path.join(SCREENSHOTS, screenshot) });
	});
});
