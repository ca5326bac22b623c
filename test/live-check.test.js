'use strict';
/**
 * `npm run live-check` kept working: the live check runs as a child process against the project's own
 * DingTalk-compatible server (loopback), through the custom base URLs, as a user runs it against DingTalk.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { DingTalkServer, PATHS } = require('./support/dingtalk-server');
const { RecordingProxy, MESSAGE_LIMIT } = require('./live-check/recording-proxy');
const { judge, judgeSend } = require('./live-check/verdicts');
const { MESSAGE_TEXT } = require('./live-check/scenario');

const SCRIPT = path.resolve(__dirname, 'live-check/live-check.js');
const SECRET = 'live-check-known-secret-7f3a91';
const ROBOT = 'dingLiveCheckBot';
const GROUP = 'cidLiveCheck+G1/xyz==';
const AGENT = '836390886';

const started = [];

async function startServer(options = {}) {
	const server = await new DingTalkServer({
		apps: { 'live-check-app': SECRET },
		robots: [ROBOT],
		agents: [AGENT],
		conversations: { [GROUP]: { kind: 'group', robots: [ROBOT] } },
		...options,
	}).start();
	started.push(server);
	return server;
}

afterEach(async () => {
	await Promise.all(started.splice(0).map(async (server) => await server.stop()));
});

function settingsFor(server) {
	return {
		DINGTALK_CLIENT_ID: 'live-check-app',
		DINGTALK_CLIENT_SECRET: SECRET,
		DINGTALK_ROBOT_CODE: ROBOT,
		DINGTALK_USER_ID: 'manager01',
		DINGTALK_OPEN_CONVERSATION_ID: GROUP,
		DINGTALK_AGENT_ID: AGENT,
		DINGTALK_DING: '1',
		DINGTALK_API_BASE_URL: server.apiBaseUrl,
		DINGTALK_OAPI_BASE_URL: server.oapiBaseUrl,
	};
}

/** Runs the live check as `npm run live-check` does, with only the DINGTALK_* variables given here. */
function liveCheck(settings, args = []) {
	const reportPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'live-check-')), 'live-check-report.json');
	const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DINGTALK_')));
	// Not spawnSync: the test server answers from this process while the check runs.
	const child = spawn(process.execPath, [SCRIPT, `--report=${reportPath}`, '--wait-before-recall=0', ...args], { env: { ...env, ...settings } });
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (chunk) => (stdout += chunk));
	child.stderr.on('data', (chunk) => (stderr += chunk));
	return new Promise((resolve) => {
		child.on('close', (code) => {
			const read = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
			const reportText = read(reportPath);
			const markdown = read(reportPath.replace(/\.json$/, '.md'));
			fs.rmSync(path.dirname(reportPath), { recursive: true, force: true });
			resolve({ code, stdout, stderr, reportText, markdown, report: reportText ? JSON.parse(reportText) : undefined });
		});
	});
}

const SENDS = [
	['send robot one-on-one message', 'sendRobotOneOnOneMessage'],
	['send robot group message', 'sendRobotGroupMessage'],
	['send work notification', 'sendWorkNotification'],
	['send DING (in-app)', 'sendRobotDingMessage'],
];

const CASES = [
	'recall robot one-on-one message',
	'recall robot group message',
	'recall work notification',
	'recall DING (in-app)',
	'recall a key DingTalk never issued',
	'recall the robot one-on-one message again',
];

describe('npm run live-check against the test server', () => {
	test('every operation passes, the table is printed, zero drift, and no secret or token is printed or reported', async () => {
		const server = await startServer();
		const result = await liveCheck(settingsFor(server));

		expect(result.stderr).toBe('');
		expect(result.code).toBe(0);
		expect(result.stdout).toMatch(/^case\s+operation\s+key\s+output\s+code\s+verdict\s+reason$/m);
		for (const name of CASES) expect(result.stdout).toMatch(new RegExp(`^${name.replace(/[()]/g, '\\$&')}\\s+\\S+\\s+\\S+\\s+(Success|Failed).*\\spass\\s`, 'm'));
		expect(result.stdout).toMatch(/Drift: none/);
		expect(result.report.outcomes.map((row) => [row.case, row.verdict])).toEqual(CASES.map((name) => [name, 'pass']));
		expect(result.report.outcomes.find((row) => row.case === 'recall the robot one-on-one message again').output).toBe('Success (alreadyRecalled)');
		expect(result.report.outcomes.find((row) => row.case === 'recall a key DingTalk never issued')).toMatchObject({ output: 'Failed', code: 'invalid.processQueryKey' });
		expect(result.report.drift).toEqual([]);
		expect(result.report.answers.length).toBeGreaterThanOrEqual(CASES.length + 5);

		// Sent by the Send node, each message once, through the credential: the token in the header on the api host, in the query on the oapi host.
		expect(result.stdout).toMatch(/^Sent 4 message\(s\) \(at most 10\) with the DingTalk Send Message node in n8n's engine:$/m);
		for (const [name] of SENDS) expect(result.stdout).toMatch(new RegExp(`^  ${name.replace(/[()]/g, '\\$&')}: sent, key \\S+$`, 'm'));
		expect(result.report.sends.map((row) => [row.case, row.operation, row.output, row.verdict])).toEqual(SENDS.map(([name, operation]) => [name, operation, 'Success', 'pass']));
		const sends = [PATHS.batchSend, PATHS.groupSend, PATHS.dingSend, PATHS.workNotificationSend].map((sendPath) => server.callsTo(sendPath));
		expect(sends.map((calls) => calls.length)).toEqual([1, 1, 1, 1]);
		expect(sends.slice(0, 3).every(([call]) => call.headerToken && !call.queryToken)).toBe(true);
		expect(sends[3][0].queryToken).toBeTruthy();
		expect(result.report.messagesSent).toBe(4);
		// What goes out, to whom: one text to the test user, one to the group, an in-app DING only.
		const [[oneOnOne], [group], [ding], [notification]] = sends;
		expect(oneOnOne.body).toEqual({ robotCode: ROBOT, userIds: ['manager01'], msgKey: 'sampleText', msgParam: JSON.stringify({ content: MESSAGE_TEXT }) });
		expect(group.body).toEqual({ robotCode: ROBOT, openConversationId: GROUP, msgKey: 'sampleText', msgParam: JSON.stringify({ content: MESSAGE_TEXT }) });
		expect(ding.body).toEqual({ robotCode: ROBOT, remindType: 1, receiverUserIdList: ['manager01'], content: MESSAGE_TEXT });
		expect(notification.body).toMatchObject({ agent_id: Number(AGENT), userid_list: 'manager01', msg: { msgtype: 'text', text: { content: MESSAGE_TEXT } } });
		expect([server.received('manager01', 'robot'), server.received('manager01', 'ding'), server.received('manager01', 'workNotification'), server.received(GROUP)]).toEqual([1, 1, 1, 1]);
		// The recalls took the IDs from the Send node's Success items.
		expect(server.isRecalled(oneOnOne.answer.processQueryKey)).toBe(true);
		expect(server.isRecalled(group.answer.processQueryKey)).toBe(true);
		expect(server.isNotificationRecalled(notification.answer.task_id)).toBe(true);
		expect(server.callsTo(PATHS.dingRecall).map((call) => call.body)).toEqual([{ robotCode: ROBOT, openDingId: ding.answer.openDingId }]);
		expect(server.callsTo(PATHS.dingRecall)[0].status).toBe(200);

		const tokens = [...server.tokens.keys()];
		expect(tokens.length).toBeGreaterThan(0);
		for (const secret of [SECRET, ...tokens]) {
			for (const output of [result.stdout, result.stderr, result.reportText, result.markdown]) expect(output).not.toContain(secret);
		}
		// User IDs, keys and IDs are placeholders in the report.
		for (const value of ['manager01', ROBOT, GROUP, ...[...server.robotMessages.keys()]]) expect(result.reportText).not.toContain(value);
	});

	test('without settings it prints what it needs and exits 0, claiming nothing', async () => {
		const result = await liveCheck({ DINGTALK_CLIENT_ID: 'only-this-one' });

		expect(result.code).toBe(0);
		for (const name of ['DINGTALK_CLIENT_ID', 'DINGTALK_CLIENT_SECRET', 'DINGTALK_ROBOT_CODE', 'DINGTALK_USER_ID', 'DINGTALK_OPEN_CONVERSATION_ID', 'DINGTALK_AGENT_ID', 'DINGTALK_DING', 'DINGTALK_API_BASE_URL', 'DINGTALK_OAPI_BASE_URL']) {
			expect(result.stdout).toContain(name);
		}
		expect(result.stdout).toMatch(/needs DINGTALK_CLIENT_SECRET, DINGTALK_ROBOT_CODE, DINGTALK_USER_ID; it sent nothing and checked nothing/);
		expect(result.stdout).not.toMatch(/pass|SPEC/);
		expect(result.report).toBeUndefined();
	});

	test('--dry-run says what it would send and sends nothing', async () => {
		const server = await startServer();
		const result = await liveCheck(settingsFor(server), ['--dry-run']);

		expect(result.code).toBe(0);
		expect(server.calls).toEqual([]);
		for (const sendPath of [PATHS.batchSend, PATHS.groupSend, PATHS.workNotificationSend, PATHS.dingSend]) expect(result.stdout).toContain(sendPath);
		for (const [, operation] of SENDS) expect(result.stdout).toContain(`"operation":"${operation}"`);
		expect(result.stdout).toContain('"remindType":"app"');
		expect(result.stdout).toMatch(/send with the DingTalk Send Message node/);
		expect(result.stdout).toMatch(/4 message\(s\) to send \(at most 10 per run\)/);
		expect(result.stdout + result.stderr).not.toContain(SECRET);
		expect(result.report).toBeUndefined();
	});

	test('answers that differ from the test server are listed as drift', async () => {
		// This server answers an unknown key with 200 and failedResult; the project's test server refuses the call.
		const server = await startServer({ batchMode: 'lenient' });
		const result = await liveCheck(settingsFor(server));

		expect(result.code).toBe(0);
		const drift = result.report.drift.filter((entry) => entry.case === 'recall a key DingTalk never issued');
		expect(drift.map((entry) => entry.difference)).toEqual(
			expect.arrayContaining([
				'status: DingTalk 200, test server 400',
				'code: DingTalk "", test server "invalid.processQueryKey"',
				'values only DingTalk gave: failedResult.<never-issued key> = invalid.processQueryKey',
			]),
		);
		expect(result.report.drift.every((entry) => entry.case === 'recall a key DingTalk never issued')).toBe(true);
		expect(result.stdout).toMatch(/Drift: \d+ difference\(s\)/);
		expect(result.markdown).toContain('| recall a key DingTalk never issued | `POST /v1.0/robot/otoMessages/batchRecall` |');
	});

	test('an outcome that breaks the SPEC exits 1: DingTalk claiming to recall a recalled message again is not Success', async () => {
		const server = await startServer();
		// This server forgets every recall: a second recall "succeeds" again.
		server.onRequest = (call) => {
			if (call.path === PATHS.batchRecall) for (const message of server.robotMessages.values()) message.recalled = false;
		};
		const result = await liveCheck(settingsFor(server));

		expect(result.code).toBe(1);
		expect(result.stdout).toMatch(/^recall the robot one-on-one message again\s.*Success\s.*FAIL\s+Success without alreadyRecalled/m);
		expect(result.stdout).toMatch(/An outcome breaks the SPEC/);
	});

	test('a send DingTalk refuses leaves its recall not proven: exit 2, and the refusal is shown', async () => {
		const server = await startServer();
		server.permissions.ding = false; // an edition without DINGs, or an app without Premium.Ding.Write
		const result = await liveCheck(settingsFor(server));

		expect(result.code).toBe(2);
		expect(result.stdout).toMatch(/send DING \(in-app\): NOT SENT \(\/v1\.0\/robot\/ding\/send: HTTP 403 Forbidden\.AccessDenied\.AccessTokenPermissionDenied/);
		expect(result.stdout).toMatch(/^recall DING \(in-app\)\s.*not proven\s+the DING \(in-app\) was not sent$/m);
		expect(result.report.outcomes.filter((row) => row.verdict === 'pass')).toHaveLength(CASES.length - 1);
		expect(result.report.sends.find((row) => row.case === 'send DING (in-app)').verdict).toBe('not proven');
	});

	test('a send whose answer was lost is never repeated, and is reported as maybe sent: exit 2', async () => {
		const server = await startServer();
		server.injectFault(PATHS.dingSend, 'lostAnswer'); // DingTalk sends the DING, then the connection drops
		const result = await liveCheck(settingsFor(server));

		expect(result.code).toBe(2);
		expect(server.callsTo(PATHS.dingSend)).toHaveLength(1);
		expect(server.received('manager01', 'ding')).toBe(1);
		expect(result.stdout).toMatch(/^  send DING \(in-app\): MAY HAVE BEEN SENT \(\/v1\.0\/robot\/ding\/send: no answer \(\w+\)\): without its openDingId the check cannot recall it$/m);
		expect(result.stdout).toMatch(/^recall DING \(in-app\)\s.*not proven\s+the DING \(in-app\) may have been sent, but its openDingId was lost$/m);
		expect(result.report.sends.find((row) => row.case === 'send DING (in-app)')).toMatchObject({ output: 'Failed (maybeSent)', verdict: 'not proven' });
		expect(result.report.outcomes.filter((row) => row.verdict === 'pass')).toHaveLength(CASES.length - 1);
	});

	test('a message that did not reach the test user is not reported as sent: exit 2', async () => {
		const server = await startServer({ unknownUsers: ['manager01'] });
		const result = await liveCheck(settingsFor(server));

		expect(result.code).toBe(2);
		const verdicts = Object.fromEntries(result.report.sends.map((row) => [row.case, [row.output, row.code, row.verdict]]));
		expect(verdicts['send robot one-on-one message']).toEqual(['Success + Failed', 'invalidStaffId', 'not proven']);
		expect(verdicts['send DING (in-app)']).toEqual(['Success + Failed', 'staffId not existed', 'not proven']);
		expect(result.stdout).toMatch(/^  send robot one-on-one message: not proven, key \S+: DingTalk created the message but did not deliver it to the test user \(invalidStaffId\)$/m);
		// What DingTalk created is recalled all the same.
		expect(result.report.outcomes.find((row) => row.case === 'recall robot one-on-one message').verdict).toBe('pass');
	});
});

describe('live check verdicts: what the SPEC promises for each case', () => {
	const outcome = (promise, output, json, extra = {}) => ({
		operation: 'recallRobotOneOnOneMessages',
		idField: 'processQueryKey',
		key: 'Kna29Ra5pdJznx1ghavbumkQKwDzgfxZLapw55G7x0Q=',
		expect: promise,
		items: [{ output, pairedItem: { item: 0 }, json: { operation: 'recallRobotOneOnOneMessages', processQueryKey: 'Kna29Ra5pdJznx1ghavbumkQKwDzgfxZLapw55G7x0Q=', robotCode: ROBOT, ...json } }],
		...extra,
	});
	const failed = (errorCode, more = {}) => ({ recalled: false, errorCode, errorMessage: 'a sentence', ...more });

	test.each([
		['recalled', 'Success', { recalled: true }, 'pass'],
		['recalled', 'Failed', failed('timeout', { mayBeRecalled: true }), 'not proven'],
		['recalled', 'Failed', failed('invalid.processQueryKey'), 'not proven'],
		['recalled', 'Success', { recalled: true, errorCode: 'x' }, 'FAIL'],
		['recalled', 'Failed', { recalled: false, errorMessage: 'no code' }, 'FAIL'],
		['recalled', 'Success', { recalled: true, error: 'moved by n8n' }, 'FAIL'],
		['refused', 'Failed', failed('invalid.processQueryKey'), 'pass'],
		['refused', 'Failed', failed('invalid.processQueryKey', { mayBeRecalled: true }), 'FAIL'],
		['refused', 'Failed', failed('notRevoke.all.messages', { mayBeRecalled: true }), 'not proven'],
		['refused', 'Success', { recalled: true }, 'FAIL'],
		['recalledBefore', 'Success', { recalled: true, alreadyRecalled: true }, 'pass'],
		['recalledBefore', 'Success', { recalled: true }, 'FAIL'],
		['recalledBefore', 'Failed', failed('notRevoke.all.messages', { mayBeRecalled: true }), 'pass'],
		['recalledBefore', 'Failed', failed('network', { mayBeRecalled: true }), 'not proven'],
	])('expecting %s: %s %j is %s', (promise, output, json, verdict) => {
		expect(judge(outcome(promise, output, json), [SECRET]).verdict).toBe(verdict);
	});

	test('an output item that holds a secret, two items for one key, or a stopped node', () => {
		expect(judge(outcome('recalled', 'Success', { recalled: true, note: SECRET }), [SECRET])).toMatchObject({ verdict: 'FAIL', reason: expect.stringContaining('secret') });
		const twice = outcome('recalled', 'Success', { recalled: true });
		expect(judge({ ...twice, items: [...twice.items, ...twice.items] }, [SECRET]).verdict).toBe('FAIL');
		expect(judge(outcome('recalled', 'Success', {}, { items: [], stopped: 'the app lacks a permission' }), [SECRET]).verdict).toBe('not proven');
	});
});

describe('live check verdicts on the Send node: what the SPEC promises for a send', () => {
	const send = (items, extra = {}) => ({
		case: 'send robot one-on-one message',
		operation: 'sendRobotOneOnOneMessage',
		idField: 'processQueryKey',
		toPeople: true,
		recipients: ['manager01'],
		items: items.map(([output, json]) => ({ output, pairedItem: { item: 0 }, json: { operation: 'sendRobotOneOnOneMessage', robotCode: ROBOT, ...json } })),
		...extra,
	});
	const sent = (more = {}) => ['Success', { sent: true, processQueryKey: 'Kna29Ra5pdJznx1ghavbumkQKwDzgfxZLapw55G7x0Q=', userIds: ['manager01'], ...more }];
	const notSent = (errorCode, more = {}) => ['Failed', { sent: false, errorCode, errorMessage: 'a sentence', userIds: ['manager01'], ...more }];

	test.each([
		['one Success item reaching the test user', 'pass', [sent()]],
		['DingTalk refused the send', 'not proven', [notSent('invalidParameter.robotCode')]],
		['a lost answer (maybeSent)', 'not proven', [notSent('timeout', { maybeSent: true })]],
		['created, but the test user refused', 'not proven', [sent({ userIds: [] }), notSent('invalidStaffId')]],
		['the test user in two Success items (sent twice)', 'FAIL', [sent(), sent({ processQueryKey: 'another-key-0123' })]],
		['the test user in no item (lost)', 'FAIL', [sent({ userIds: [] })]],
		['no output item at all', 'FAIL', []],
		['Success without the ID the recall needs', 'FAIL', [sent({ processQueryKey: undefined })]],
		['Success with an errorCode', 'FAIL', [sent({ errorCode: 'x' })]],
		['Failed without an errorCode', 'FAIL', [notSent('')]],
		['Failed with maybeSent that is not true', 'FAIL', [notSent('timeout', { maybeSent: false })]],
		['a top-level error key', 'FAIL', [sent({ error: 'moved by n8n' })]],
		['no robotCode', 'FAIL', [sent({ robotCode: undefined })]],
		['a secret in an item', 'FAIL', [sent({ note: SECRET })]],
	])('%s: %s', (_name, verdict, items) => {
		expect(judgeSend(send(items), [SECRET]).verdict).toBe(verdict);
	});

	test('a group message has one item and no userIds; a stopped node proves nothing', () => {
		const group = { operation: 'sendRobotGroupMessage', toPeople: false, recipients: [] };
		const groupItem = (json) => ({ output: 'Success', pairedItem: { item: 0 }, json: { operation: 'sendRobotGroupMessage', robotCode: ROBOT, openConversationId: GROUP, sent: true, processQueryKey: 'Kna29Ra5pdJznx1ghavbumkQKwDzgfxZLapw55G7x0Q=', ...json } });
		expect(judgeSend(send([], { ...group, items: [groupItem({})] }), [SECRET]).verdict).toBe('pass');
		expect(judgeSend(send([], { ...group, items: [groupItem({}), groupItem({})] }), [SECRET]).verdict).toBe('FAIL');
		expect(judgeSend(send([], { ...group, items: [groupItem({ openConversationId: undefined })] }), [SECRET]).verdict).toBe('FAIL');
		expect(judgeSend(send([], { stopped: 'the app lacks a permission' }), [SECRET]).verdict).toBe('not proven');
	});
});

describe('live check: at most 10 messages per run', () => {
	test('the recording proxy forwards 10 sends and answers the 11th itself; the limit cannot be raised', async () => {
		const server = await startServer();
		const { accessToken } = await (await fetch(`${server.apiBaseUrl}${PATHS.accessToken}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ appKey: 'live-check-app', appSecret: SECRET }),
		})).json();
		const proxy = await new RecordingProxy({ api: server.apiBaseUrl, oapi: server.oapiBaseUrl }, { messageLimit: 50 }).start();
		try {
			expect(proxy.messageLimit).toBe(MESSAGE_LIMIT);
			const statuses = [];
			for (let index = 0; index < MESSAGE_LIMIT + 1; index++) {
				const response = await fetch(`${proxy.apiBaseUrl}${PATHS.batchSend}`, {
					method: 'POST',
					headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': accessToken },
					body: JSON.stringify({ robotCode: ROBOT, userIds: ['manager01'], msgKey: 'sampleText', msgParam: '{"content":"x"}' }),
				});
				statuses.push(response.status);
				await response.arrayBuffer();
			}
			expect(statuses).toEqual([...Array(MESSAGE_LIMIT).fill(200), 429]);
			expect(server.callsTo(PATHS.batchSend)).toHaveLength(MESSAGE_LIMIT);
			expect(proxy.messagesSent).toBe(MESSAGE_LIMIT);
			expect(proxy.calls.at(-1)).toMatchObject({ status: 429, refused: expect.stringContaining('more than 10') });
		} finally {
			await proxy.stop();
		}
	});
});
