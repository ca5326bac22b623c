'use strict';
/**
 * Property: DingTalk's whole answer space. Each call the node makes — recall, read status, token — is
 * answered by a draw from a catalogue that holds every answer row of dingtalk-api.md: per-key results at
 * 200 and inside a 400 notRevoke.all.messages, whole-call refusals documented and not, throttling on both
 * hosts in all its shapes, busy as 429 and as 200, 5xx, ban pages, a gateway's 200 {} or HTML, connections
 * dropped before and after DingTalk acted, token expiry, faults and refusals on the token API. (Timeouts
 * are left to the tests of faults: here every answer that comes must be heard, on a machine however
 * loaded, so that the oracle can tell lost answers from the server's record.) It is drawn
 * across all five operations, with Continue On Fail on and off, with setup errors and stops. The oracle is
 * SPEC.md's "What never happens", line by line (see `nothingMisreported`).
 *
 * `npm test` runs fixed seeds, so it gives the same answer every run. `FC_SEED=<n>` runs another seed,
 * `FC_SEED=random` a random one, `FC_RUNS=<n>` more or fewer runs per seed; the seeds are always printed.
 */
const path = require('node:path');
const fc = require('fast-check');
const { startServer, credentialsFor, PATHS } = require('./support/fixture');
const { runNode } = require('./support/n8n-harness');

const { meaningOf } = require(path.resolve(__dirname, '../dist/credentials/DingTalkAnswers.js'));

/** One of DingTalk's documented codes that refuse one key. */
const isKeyCode = (code) => meaningOf(code)?.reach === 'key';

const SECRET = 'answer-space-secret';
const AGENT = '836390886';
const FOREIGN_AGENT = '555000111';

// ---------------------------------------------------------------- the catalogue of answers

const html = (status, acted = false) => ({ status, body: '<html><body>gateway page</body></html>', contentType: 'text/html', acted });
const apiError = (status, code, extra = {}) => ({ status, body: { code, message: `${code}: scripted`, requestid: 'scripted', ...extra } });
const oapiAnswer = (body, acted = false) => ({ status: 200, body: { request_id: 'scripted', ...body }, acted });

/** Answers every api-host API may give (`none`: DingTalk's normal answer). */
const API_ANSWERS = [
	'none', 'none', 'none', 'none',
	'500', '502', '503', 'html', 'empty', 'empty200', 'proxy200',
	{ status: 200, body: {}, acted: true }, html(502, true), html(200, true),
	'drop', 'lostAnswer',
	'429', 'busy200', 'systemBusy', 'ban', html(403),
	apiError(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi'), apiError(403, 'Forbidden.AccessDenied.QpmLimitForAppkeyAndApi'),
	apiError(400, 'system.exception'), apiError(400, 'ServiceException'),
	'tokenExpired',
	'permissionDenied', apiError(403, 'Forbidden.AccessDenied.IpNotInWhiteList'), apiError(403, 'Forbidden.AccessDenied.ApiCountLimitForOrg'),
	apiError(400, 'invalidParameter.robotCode'),
	'refuse:Forbidden.AccessDenied.AppNotInEdition', 'refuse:constructor',
	// A gateway's JSON error: DingTalk's codes on this host are words, never numbers.
	{ status: 502, body: { code: 502, message: 'Bad Gateway' }, acted: true },
	// Errcode bodies, as only the old-style host answers (at HTTP 200): at any other status a gateway's.
	{ status: 504, body: { errcode: 504, errmsg: 'Gateway Time-out' }, acted: true }, { status: 502, body: { errcode: 502 } },
	{ status: 500, body: { errcode: -1, errmsg: 'busy' }, acted: true }, { status: 403, body: { errcode: 60020, errmsg: 'ip' } },
	{ status: 200, body: { errcode: 22, errmsg: 'Invalid method[v1.0.robot]' } },
];

const ROBOT_RECALL_ANSWERS = [
	...API_ANSWERS,
	apiError(400, 'invalid.openConversationId'), apiError(400, 'bot.stopped'),
	apiError(400, 'invalid.processQueryKey'), apiError(400, 'invalid.processQueryKey', { successResult: [], failedResult: {} }),
	apiError(400, 'robot.processQueryKey.expired'),
	'failedReason:SYSTEM_ERROR', 'failedReason:some.undocumented.reason', 'failedReason:toString',
	'failedReason:system.busy', 'failedReason:Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
	'perKeyIn500', 'perKeyIn400',
	'silent', { status: 200, body: { successResult: [], failedResult: {}, requestid: 'scripted' } },
	// Refusals whose failedResult names only the bad keys, DingTalk having recalled the others or not; answers about other keys.
	'refuseNamingBad:invalid.processQueryKey', 'refuseNamingBadUnrecalled:invalid.processQueryKey', 'refuseNamingBad:robot.processQueryKey.expired',
	'namesOtherKeys', 'namesOtherKeysActed',
];

const DING_ANSWERS = [
	...API_ANSWERS,
	apiError(400, 'recall.ding.exception', { message: 'recall.ding.exception ding already expired' }),
	apiError(400, 'invalidParameter.param.invalid'),
	{ status: 200, body: { openDingId: null, requestid: 'scripted' } },
	// An answer about another DING (a caching proxy), DingTalk having recalled this one or not.
	{ status: 200, body: { openDingId: 'another-ding-id', requestid: 'scripted' } }, { status: 200, body: { openDingId: 'another-ding-id' }, acted: true },
];

const WORK_ANSWERS = [
	'none', 'none', 'none', 'none',
	'500', '502', 'html', 'empty', 'drop', 'lostAnswer',
	'systemBusy', 'ban', 'tokenExpired',
	oapiAnswer({ errcode: 88, sub_code: '90018', sub_msg: 'qps', errmsg: 'ding talk error[subcode=90018,submsg=qps]' }),
	oapiAnswer({ errcode: 88, errmsg: 'ding talk error[subcode=90002,submsg=当前所有钉钉应用调用该接口次数过多]' }),
	oapiAnswer({ errcode: 88, sub_code: '', errmsg: 'ding talk error[subcode=90018,submsg=qps]' }),
	oapiAnswer({ errcode: 60011, errmsg: 'no permission' }), oapiAnswer({ errcode: 60020, errmsg: 'ip not allowed' }),
	oapiAnswer({ errcode: 123456, errmsg: 'unknown' }), oapiAnswer({ errcode: 400002, errmsg: 'Invalid agentId or taskId' }),
	{ status: 200, body: { ok: true }, acted: true },
	// Errcode bodies at a status the old-style host never answers with: a gateway's.
	{ status: 502, body: { errcode: 502, errmsg: 'Bad Gateway' }, acted: true }, { status: 503, body: { errcode: 0, errmsg: 'ok' }, acted: true },
	{ status: 500, body: { errcode: 400002, errmsg: 'x' } },
];

const STATUS_ANSWERS = [
	'none', 'none', 'none', '502', 'html', 'empty200', 'drop', 'tokenExpired', 'permissionDenied',
	{ status: 200, body: { sendStatus: 'SOMETHING_NEW' } }, apiError(400, 'invalidParameter.robotCode'),
];

const TOKEN_ANSWERS = [
	'none', 'none', '500', '502', 'drop', '429', 'busy200', 'ban', 'empty200',
	apiError(400, 'system.exception'), apiError(403, 'Forbidden.AccessDenied.IpNotInWhiteList'), apiError(400, 'invalidClientIdOrSecret'),
	apiError(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi'),
	{ status: 503, body: { errcode: 503, errmsg: 'Service Unavailable' } },
];

// ---------------------------------------------------------------- the operations and their worlds

const CHAT_OF = { recallRobotOneOnOneMessages: [undefined], recallRobotGroupMessages: ['cidGroupOps+A1/xyz==', 'cidGroupDev+B2/xyz=='], recallRobotPrivateChatMessages: ['cidPrivate+C3/xyz=='] };

const OPERATIONS = {
	recallRobotOneOnOneMessages: { kind: 'robot', recallPath: PATHS.batchRecall, statusPath: PATHS.readStatus, answers: ROBOT_RECALL_ANSWERS },
	recallRobotGroupMessages: { kind: 'robot', recallPath: PATHS.groupRecall, statusPath: PATHS.groupQuery, answers: ROBOT_RECALL_ANSWERS },
	recallRobotPrivateChatMessages: { kind: 'robot', recallPath: PATHS.privateChatRecall, answers: ROBOT_RECALL_ANSWERS },
	recallRobotDingMessages: { kind: 'ding', recallPath: PATHS.dingRecall, answers: DING_ANSWERS },
	recallWorkNotification: { kind: 'work', recallPath: PATHS.workNotificationRecall, answers: WORK_ANSWERS },
};

const KEY_KINDS = ['sent', 'sent', 'sent', 'sent', 'foreign', 'unknown', 'expired', 'recalledBefore', 'duplicate', 'blank', 'bad'];

/** The answers to a path's first calls: DingTalk's normal answer `normalWeight` times as often as each catalogue row drawn. */
function answersDrawn(catalogue, normalWeight, maxLength) {
	const answer = fc.oneof({ weight: normalWeight, arbitrary: fc.constant('none') }, { weight: 1, arbitrary: fc.constantFrom(...catalogue) });
	return fc.array(answer, { maxLength });
}

/** `arbitrary` once in `every` runs, otherwise nothing. */
function rarely(arbitrary, every) {
	return fc.oneof({ weight: every - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
}

const scenario = fc
	.constantFrom(...Object.keys(OPERATIONS))
	.chain((operation) =>
		fc.record({
			operation: fc.constant(operation),
			items: fc.array(
				fc.record({ pool: fc.nat(2), chat: fc.nat(1), form: fc.constantFrom('array', 'comma'), keys: fc.array(fc.constantFrom(...KEY_KINDS), { maxLength: 12 }) }),
				{ minLength: 1, maxLength: 6 },
			),
			recallAnswers: answersDrawn(OPERATIONS[operation].answers, 2, 10),
			statusAnswers: answersDrawn(STATUS_ANSWERS, 2, 4),
			tokenAnswers: answersDrawn(TOKEN_ANSWERS, 8, 3),
			batchMode: fc.constantFrom('strict', 'lenient', 'notRevoke', 'notRevokeBare'),
			setupError: rarely(fc.constantFrom('missingBaseUrl', 'credentialUnavailable', 'invalidOptions'), 15),
			continueOnFail: fc.boolean(),
			stopAfterCalls: rarely(fc.integer({ min: 1, max: 6 }), 8),
			batchSize: fc.integer({ min: 1, max: 20 }),
			concurrency: fc.integer({ min: 1, max: 5 }),
			maxRetries: fc.integer({ min: 0, max: 3 }),
			checkUnclear: fc.boolean(),
		}),
	);

/** Builds one operation's input items on the server's messages; returns them and how many output items each must give. */
function materialise(server, spec) {
	const { kind } = OPERATIONS[spec.operation];
	const given = [];
	const items = [];
	const expected = [];
	for (const item of spec.items) {
		const pool = poolOf(spec.operation, item);
		const values = [];
		for (const keyKind of item.keys) {
			const value = keyOf(server, kind, pool, keyKind, given);
			if (typeof value === 'string' || typeof value === 'number') given.push(value);
			if (value !== undefined && (item.form === 'array' || typeof value !== 'object')) values.push(value);
		}
		const keys = item.form === 'array' ? values : values.map(String).join(',');
		const count =
			item.form === 'array'
				? values.filter((value) => typeof value !== 'string' || value.trim() !== '').length
				: values.map(String).filter((value) => value.trim() !== '').length;
		items.push({ ...pool.fields, keys });
		expected.push(Math.max(1, count));
	}
	return { items, expected };
}

const ROBOTS = ['dingRobotA', 'dingRobotB', 'dingNoSuchRobot'];

function poolOf(operation, item) {
	const { kind } = OPERATIONS[operation];
	if (kind === 'work') return { agent: [AGENT, AGENT, '111'][item.pool], fields: { agent: [AGENT, AGENT, '111'][item.pool] } };
	const robot = ROBOTS[item.pool];
	const chats = CHAT_OF[operation] ?? [undefined];
	const chat = chats[item.chat % chats.length];
	return { robot, chat, fields: { robot, chat } };
}

/** One key of `keyKind` for `pool`, sent (or not) on the server. */
function keyOf(server, kind, pool, keyKind, given) {
	if (keyKind === 'blank') return '  ';
	if (keyKind === 'bad') return kind === 'work' ? 'not-a-number' : { a: 1 };
	if (keyKind === 'duplicate') return given.length ? given[given.length - 1] : undefined;
	if (kind === 'work') {
		if (keyKind === 'unknown') return 999_000 + given.length;
		const taskId = server.sendWorkNotification(keyKind === 'foreign' ? FOREIGN_AGENT : AGENT);
		if (keyKind === 'recalledBefore') server.notifications.get(taskId).recalled = true;
		return taskId;
	}
	const owner = pool.robot === 'dingRobotB' ? 'dingRobotB' : 'dingRobotA';
	const sender = keyKind === 'foreign' ? (owner === 'dingRobotA' ? 'dingRobotB' : 'dingRobotA') : owner;
	if (kind === 'ding') {
		if (keyKind === 'unknown') return `unknown-ding-${given.length}`;
		const ding = server.sendDing(sender);
		if (keyKind === 'recalledBefore' || keyKind === 'expired') server.dings.get(ding).recalled = true;
		return ding;
	}
	if (keyKind === 'unknown') return `unknown-${given.length}`;
	const sentAt = keyKind === 'expired' ? server.clock.now() - 25 * 3600e3 : undefined;
	const key = server.sendRobotMessage(sender, { sentAt, openConversationId: pool.chat });
	if (keyKind === 'recalledBefore') server.robotMessages.get(key).recalled = true;
	return key;
}

function parametersFor(spec) {
	// The default timeout: an answer that comes is never taken for a lost one, however loaded the machine.
	const options = { batchSize: spec.batchSize, concurrency: spec.concurrency, maxRetries: spec.maxRetries, retryDelay: 1, checkUnclear: spec.checkUnclear };
	if (spec.setupError === 'invalidOptions') options.timeout = '={{ $("No Such Node").item.json.timeout }}';
	const { kind } = OPERATIONS[spec.operation];
	if (kind === 'work') return { operation: spec.operation, agentId: '={{ $json.agent }}', msgTaskId: '={{ $json.keys }}', options };
	if (kind === 'ding') return { operation: spec.operation, robotCode: '={{ $json.robot }}', openDingIds: '={{ $json.keys }}', options };
	const chat = spec.operation === 'recallRobotOneOnOneMessages' ? {} : { openConversationId: '={{ $json.chat }}' };
	return { operation: spec.operation, robotCode: '={{ $json.robot }}', processQueryKeys: '={{ $json.keys }}', ...chat, options };
}

// ---------------------------------------------------------------- what the server knows

/** The server's record of one message: whether it is recalled, and whom it belongs to. */
function messageOf(server, kind, value) {
	if (kind === 'work') {
		const notification = server.notifications.get(Number(value));
		return notification && { recalled: notification.recalled, owner: { agent: notification.agentId } };
	}
	if (kind === 'ding') {
		const ding = server.dings.get(value);
		return ding && { recalled: ding.recalled, owner: { robot: ding.robotCode } };
	}
	const message = server.robotMessages.get(value);
	return message && { recalled: message.recalled, owner: { robot: message.robotCode, chat: message.openConversationId } };
}

/** The key and the pool an output item speaks of. */
function describe_(kind, json) {
	if (kind === 'work') return { value: String(json.msgTaskId), pool: { agent: String(json.agentId) } };
	if (kind === 'ding') return { value: json.openDingId, pool: { robot: json.robotCode } };
	return { value: json.processQueryKey, pool: { robot: json.robotCode, chat: json.openConversationId } };
}

/** The keys and the pool of one recorded call. */
function callOf(kind, call) {
	const body = call.body ?? {};
	if (kind === 'work') return { keys: [String(body.msg_task_id)], pool: { agent: String(body.agent_id) } };
	if (kind === 'ding') return { keys: [body.openDingId], pool: { robot: body.robotCode } };
	return { keys: (body.processQueryKeys ?? []).map(String), pool: { robot: body.robotCode, chat: body.openConversationId } };
}

const samePool = (a, b) => Object.keys(a).every((field) => a[field] === undefined || b[field] === undefined || String(a[field]) === String(b[field]));

/** Whether the caller heard DingTalk's answer about `key` in this call; if not, DingTalk may have acted unheard. */
function heardAbout(kind, call, key) {
	if (call.status < 0) return false;
	const answer = call.answer;
	if (answer === null || typeof answer !== 'object') return false;
	// The old-style host answers at HTTP 200 only: an errcode body at another status is a gateway's.
	if (kind === 'work') return call.status >= 200 && call.status < 300 && answer.errcode !== undefined;
	const { successResult, failedResult } = answer;
	if (Array.isArray(successResult) || (failedResult && typeof failedResult === 'object')) {
		return (successResult ?? []).includes(key) || Object.prototype.hasOwnProperty.call(failedResult ?? {}, key);
	}
	if (kind === 'ding' && answer.openDingId) return answer.openDingId === key;
	return typeof answer.code === 'string' && answer.code !== 'notRevoke.all.messages';
}

/** Every code DingTalk's answers of this call carry: `code`, `errcode`, a wrapped `sub_code`, a `failedResult` reason for `key`. */
function codesSaid(call, key) {
	const answer = call.answer;
	if (answer === null || typeof answer !== 'object') return [];
	// An errcode is DingTalk's old-style answer only at HTTP 200: at another status, a gateway's.
	const oldStyle = call.status >= 200 && call.status < 300;
	const codes = [answer.code, oldStyle ? answer.errcode : undefined, oldStyle ? answer.sub_code : undefined].filter((code) => code !== undefined).map(String);
	const wrapped = oldStyle && /subcode=(-?\d+)/.exec(String(answer.errmsg ?? ''));
	if (wrapped) codes.push(wrapped[1]);
	const reason = answer.failedResult?.[key];
	if (reason !== undefined) codes.push(String(reason).trim() || 'failed');
	return codes;
}

/** Codes the node gives of its own, where DingTalk gave none. */
const OWN_CODES = new Set(['timeout', 'network', 'invalidResponse', 'notReported', 'cancelled', 'ipBanned', 'http401', 'http404', 'http429', 'invalidInput']);
const SETUP_CODES = new Set(['missingBaseUrl', 'credentialUnavailable', 'invalidOptions']);
const TOKEN_PATHS = new Set([PATHS.accessToken, PATHS.corpAccessToken]);

// ---------------------------------------------------------------- one run, and its oracle

async function nothingMisreported(spec) {
	const { kind, recallPath, statusPath } = OPERATIONS[spec.operation];
	const server = await startServer({ batchMode: spec.batchMode, apps: { 'ding-app-key': SECRET } });
	try {
		for (const answer of spec.recallAnswers) server.injectFault(recallPath, answer, 1);
		if (statusPath) for (const answer of spec.statusAnswers) server.injectFault(statusPath, answer, 1);
		for (const answer of spec.tokenAnswers) server.injectFault(PATHS.accessToken, answer, 1);
		const { items, expected } = materialise(server, spec);
		const before = new Map(
			[...(kind === 'work' ? server.notifications : kind === 'ding' ? server.dings : server.robotMessages)].map(([key, message]) => [String(key), message.recalled]),
		);
		let stop = () => {};
		let stopped = false;
		if (spec.stopAfterCalls !== undefined) {
			server.onRequest = (call) => {
				if (call.path === recallPath && server.callsTo(recallPath).length === spec.stopAfterCalls) {
					stopped = true;
					setImmediate(stop);
				}
			};
		}
		const credentials = credentialsFor(server, { clientSecret: SECRET, ...(spec.setupError === 'missingBaseUrl' ? { apiBaseUrl: '' } : {}) });
		const result = await runNode({
			items,
			credentials,
			credentialId: spec.setupError === 'credentialUnavailable' ? 'no-such-credential' : 'cred-1',
			parameters: parametersFor(spec),
			continueOnFail: spec.continueOnFail,
			onStart: (stopExecution) => (stop = stopExecution),
		});
		const canceled = result.run.status === 'canceled';

		const calls = server.calls;
		const recallCalls = server.callsTo(recallPath).map((call) => ({ call, ...callOf(kind, call) }));
		const outputs = [...result.success.map((item) => ({ ...item, success: true })), ...result.failed.map((item) => ({ ...item, success: false }))];

		// Configuration errors that stop the run: a setup error, or DingTalk refusing the app on a recall or token call.
		const appCodeSaid = calls.some((call) => call.path !== statusPath && codesSaid(call).some((code) => meaningOf(code)?.scope === 'app'));
		const tokenRejections = calls.filter((call) => codesSaid(call).some((code) => meaningOf(code)?.kind === 'tokenRejected')).length;

		// Configuration errors hide / a passing fault stops the run / one pool's error stops the others: only a
		// setup error, a refusal of the whole app, or a fresh token rejected again may stop it, and only without Continue On Fail.
		if (result.error) {
			// A stopped execution ends with n8n's own error, after or instead of the node's.
			if (canceled && result.error.name !== 'NodeApiError') return;
			expect(result.error.name).toBe('NodeApiError');
			expect(spec.continueOnFail).toBe(false);
			expect(Boolean(spec.setupError) || appCodeSaid || tokenRejections >= 2).toBe(true);
			return;
		}
		if (!spec.continueOnFail && !canceled) {
			expect(Boolean(spec.setupError)).toBe(false);
			const appRefusal = calls.find((call) => call.path !== statusPath && codesSaid(call).some((code) => meaningOf(code)?.scope === 'app'));
			if (appRefusal) throw new Error(`DingTalk refused the whole app (${appRefusal.path} ${appRefusal.code}), and the run did not stop`);
		}

		// A key is lost: one output item per key given, paired to its item.
		expect(outputs).toHaveLength(expected.reduce((sum, count) => sum + count, 0));
		const perItem = new Array(items.length).fill(0);
		for (const output of outputs) perItem[output.pairedItem.item]++;
		expect(perItem).toEqual(expected);

		// Input passes through: a setup error with Continue On Fail puts every key on Failed with its code, and calls nothing.
		if (spec.setupError) {
			expect(result.success).toEqual([]);
			for (const { json } of result.failed) expect([spec.setupError, 'invalidInput']).toContain(json.errorCode);
			expect(server.callsTo(recallPath)).toHaveLength(0);
		}

		const statusAsked = new Map();
		for (const call of statusPath ? server.callsTo(statusPath) : []) {
			const asked = `${call.statusRobot} ${call.statusChat} ${call.statusKey}`;
			statusAsked.set(asked, (statusAsked.get(asked) ?? 0) + (call.status > 0 && call.code !== 'InvalidAuthentication' ? 1 : 0));
		}
		for (const count of statusAsked.values()) expect(count).toBeLessThanOrEqual(1);

		for (const output of outputs) {
			const { json } = output;
			expect(json).not.toHaveProperty('error');
			const { value, pool } = describe_(kind, json);
			const message = messageOf(server, kind, value);
			const owned = message !== undefined && samePool(pool, message.owner);
			const recalledNow = owned && message.recalled && before.get(value) === false;
			const carrying = recallCalls.filter((call) => samePool(pool, call.pool) && call.keys.includes(value));

			if (output.success) {
				// Success means DingTalk confirmed the recall: an answer that named it recalled, or its read status.
				expect(json.recalled).toBe(true);
				expect(owned && message.recalled).toBe(true);
				expect(json).not.toHaveProperty('mayBeRecalled');
				if (!json.alreadyRecalled) expect(carrying.some(({ call }) => (call.reportedKeys ?? []).map(String).includes(value))).toBe(true);
				continue;
			}
			expect(json.recalled).toBe(false);
			// A recall DingTalk's answer named is told as not recalled: never, whatever came after (unless the stop cut the answer off).
			if (!stopped) expect(carrying.some(({ call }) => (call.reportedKeys ?? []).map(String).includes(value))).toBe(false);
			expect(typeof json.errorCode).toBe('string');
			expect(json.errorCode.length).toBeGreaterThan(0);
			expect(typeof json.errorMessage).toBe('string');
			expect(json.errorCode).not.toBe('internalError');

			// A message DingTalk may have recalled is reported as plainly not recalled: never.
			if (recalledNow) expect(json.mayBeRecalled).toBe(true);
			// mayBeRecalled only where an answer about the key was not heard (or the stop cut a call short).
			if (json.mayBeRecalled && !stopped) expect(carrying.some(({ call }) => !heardAbout(kind, call, value))).toBe(true);

			if (json.errorCode === 'invalidInput') {
				expect(json.errorMessage).toMatch(/^Item \d+: /);
				continue;
			}
			if (OWN_CODES.has(json.errorCode) || SETUP_CODES.has(json.errorCode)) continue;
			// Told truly: DingTalk said this code, of this key (a key code of this key alone), of its pool, or of the whole app.
			const meaning = meaningOf(json.errorCode);
			const saidOf = (call, key) => codesSaid(call, key).includes(json.errorCode);
			if (isKeyCode(json.errorCode)) {
				expect(carrying.some(({ call, keys }) => saidOf(call, value) && (keys.length === 1 || call.answer?.failedResult?.[value] !== undefined))).toBe(true);
			} else if (meaning?.scope === 'pool') {
				expect(recallCalls.some((call) => samePool(pool, call.pool) && saidOf(call.call))).toBe(true);
			} else if (meaning?.scope === 'app' || meaning?.kind === 'tokenRejected') {
				expect(calls.some((call) => saidOf(call))).toBe(true);
			} else {
				expect(carrying.some(({ call }) => saidOf(call, value)) || calls.some((call) => TOKEN_PATHS.has(call.path) && saidOf(call))).toBe(true);
			}
			// Keys DingTalk clearly refused (no answer about them lost) are never status-checked.
			const neverLost = carrying.every(({ call }) => heardAbout(kind, call, value));
			if (isKeyCode(json.errorCode) && neverLost) expect(statusAsked.get(`${json.robotCode} ${json.openConversationId} ${value}`) ?? 0).toBe(0);
		}

		// No secret or token shows.
		const text = JSON.stringify(outputs);
		expect(text).not.toContain(SECRET);
		for (const token of server.tokens.keys()) expect(text).not.toContain(token);
		if (!canceled) expect(result.error).toBeUndefined();
	} finally {
		server.onRequest = undefined;
		await server.stop();
	}
}

const FIXED_SEEDS = [20261203, 7, -1066];
const RUNS_PER_SEED = Number(process.env.FC_RUNS ?? 40);

function seedsToRun() {
	const requested = process.env.FC_SEED;
	if (!requested) return FIXED_SEEDS;
	if (requested === 'random') return [Math.floor(Math.random() * 2 ** 31) * (Math.random() < 0.5 ? -1 : 1)];
	return requested.split(',').map(Number);
}

describe('property: DingTalk’s whole answer space, every key told truly', () => {
	const seeds = seedsToRun();
	// Always printed: a failure can be replayed with FC_SEED=<seed>.
	console.log(`answer-space property: seeds ${seeds.join(', ')}, ${RUNS_PER_SEED} runs each (FC_SEED, FC_RUNS to change)`);
	test.each(seeds)('every operation, every answer row, Continue On Fail on and off, setup errors and stops (seed %i)', async (seed) => {
		await fc.assert(fc.asyncProperty(scenario, nothingMisreported), { seed, numRuns: RUNS_PER_SEED });
	}, 600_000);
});
