'use strict';
/**
 * The one table of DingTalk's answers, called directly: every row of dingtalk-api.md on the API it comes
 * from (both token APIs, robot recall, read status, DING recall, work notifications), on both hosts.
 */
const path = require('node:path');

const { classifyAnswer, classifyRequestFailure, keyVerdicts } = require(
	path.resolve(__dirname, '../dist/credentials/DingTalkAnswers.js'),
);

const TOKEN = { host: 'api', resultFields: ['accessToken'] };
const RECALL = { host: 'api', resultFields: ['successResult', 'failedResult'] };
const READ_STATUS = { host: 'api', resultFields: ['sendStatus'] };
const DING = { host: 'api', resultFields: ['openDingId'] };
const WORK = { host: 'oapi', resultFields: [] };
const API_SHAPES = { TOKEN, RECALL, READ_STATUS, DING };

/** One of DingTalk's documented codes that refuse one key, as the table reads a whole-call refusal with it. */
const isKeyCode = (code) => classifyAnswer(RECALL, 400, { code, message: 'm' }).reach === 'key';

/** DingTalk's per-second limits, as the table reads them on either host. */
const isPerSecondLimit = (code) =>
	(/^\d+$/.test(code) ? classifyAnswer(WORK, 200, { errcode: Number(code) }) : classifyAnswer(RECALL, 403, { code, message: 'm' })).perSecond === true;

describe('the api host, on every API the node calls', () => {
	test.each(Object.entries(API_SHAPES))('%s: its own result field at 2xx is DingTalk’s answer, even beside a code', (_name, shape) => {
		const body = { [shape.resultFields[0]]: 'x', code: 'anything', requestid: 'r' };
		expect(classifyAnswer(shape, 200, body)).toMatchObject({ kind: 'ok', requestId: 'r' });
	});

	test.each(Object.entries(API_SHAPES))('%s: a 2xx without its result fields is not DingTalk’s answer: lost', (_name, shape) => {
		expect(classifyAnswer(shape, 200, {}).kind).toBe('lost');
		expect(classifyAnswer(shape, 200, '<html>ok</html>').kind).toBe('lost');
		expect(classifyAnswer(shape, 200, '').kind).toBe('lost');
		const other = Object.values(API_SHAPES).find((candidate) => candidate !== shape);
		expect(classifyAnswer(shape, 200, { [other.resultFields[0]]: 'x' }).kind).toBe('lost');
	});

	test.each([
		// status, code, kind, scope or reach
		[400, 'InvalidAuthentication', 'tokenRejected', undefined],
		[400, 'AuthenticationFailed.MissingParameter', 'configuration', 'app'],
		[400, 'invalidClientIdOrSecret', 'configuration', 'app'],
		[400, 'invalidSuiteKey', 'configuration', 'app'],
		[400, 'invalidSuiteTicket', 'configuration', 'app'],
		[400, 'invalidAuthInfo', 'configuration', 'app'],
		[403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', 'throttled', undefined],
		[403, 'Forbidden.AccessDenied.QpsLimitForApi', 'throttled', undefined],
		[403, 'Forbidden.AccessDenied.QpmLimitForAppkeyAndApi', 'throttled', undefined],
		[403, 'Forbidden.AccessDenied.QpsLimitForSuitekeyAndOrgAndApi', 'throttled', undefined],
		[403, 'Forbidden.AccessDenied.AccessTokenPermissionDenied', 'configuration', 'app'],
		[403, 'Forbidden.AccessDenied.IpNotInWhiteList', 'configuration', 'app'],
		[403, 'Forbidden.AccessDenied.ApiCountLimitForOrg', 'configuration', 'app'],
		[429, 'system.busy', 'throttled', undefined],
		[429, 'systemBusy', 'throttled', undefined],
		[200, 'system.busy', 'throttled', undefined],
		[200, 'SystemBusy', 'throttled', undefined],
		[500, 'system.error', 'failed', undefined],
		[400, 'system.exception', 'failed', undefined],
		[400, 'UnknownError', 'failed', undefined],
		[400, 'ServiceException', 'failed', undefined],
		[200, 'system.error', 'failed', undefined],
		[404, 'InvalidAction.NotFound', 'configuration', 'app'],
		[400, 'Missingbody', 'configuration', 'app'],
		[400, 'invalidParameter.robotCode', 'configuration', 'pool'],
		[400, 'invalid.openConversationId', 'configuration', 'pool'],
		[400, 'miss.openConversationId', 'configuration', 'pool'],
		[400, 'bot.stopped', 'configuration', 'pool'],
		[400, 'invalid.processQueryKey', 'refused', 'key'],
		[400, 'robot.processQueryKey.expired', 'refused', 'key'],
		[400, 'processQueryKey.expireTime', 'refused', 'key'],
		[400, 'not.allowed.robotCode', 'refused', 'key'],
		[400, 'invalidParameter.processQueryKey.missing', 'refused', 'key'],
		[400, 'invalidParameter.processQueryKeys.overMax', 'refused', 'size'],
		[400, 'notRevoke.all.messages', 'refused', 'unheard'],
		[400, 'recall.ding.exception', 'refused', 'call'],
		[400, 'invalidParameter.param.invalid', 'refused', 'call'],
		// Codes no row names: by their family, then by the status; a refusal about the call, not a key. (Every row has four entries: jest takes a fourth parameter for `done`.)
		[403, 'Forbidden.AccessDenied.QpsLimitForSomethingNew', 'throttled', undefined],
		[400, 'Forbidden.AccessDenied.AppNotInEdition', 'refused', 'call'],
		[400, 'constructor', 'refused', 'call'],
		[400, 'toString', 'refused', 'call'],
		[401, 'whatever', 'tokenRejected', undefined],
		[503, 'whatever', 'failed', undefined],
		[200, 'whatever', 'failed', undefined],
	])('HTTP %s %s is %s (%s)', (status, code, kind, detail) => {
		for (const shape of Object.values(API_SHAPES)) {
			const answer = classifyAnswer(shape, status, { code, message: 'm', requestid: 'r' });
			expect(answer).toMatchObject({ kind, code, message: 'm', requestId: 'r' });
			if (kind === 'configuration') expect(answer.scope).toBe(detail);
			if (kind === 'configuration') expect(answer.text.length).toBeGreaterThan(20);
			if (kind === 'refused') expect(answer.reach).toBe(detail);
		}
	});

	test('per-second limits are told apart: the pacer learns the rate from them', () => {
		expect(isPerSecondLimit('Forbidden.AccessDenied.QpsLimitForAppkeyAndApi')).toBe(true);
		expect(isPerSecondLimit('90018')).toBe(true);
		expect(isPerSecondLimit('90002')).toBe(true);
		expect(isPerSecondLimit('Forbidden.AccessDenied.QpmLimitForAppkeyAndApi')).toBe(false);
		expect(isPerSecondLimit('system.busy')).toBe(false);
		expect(isPerSecondLimit('toString')).toBe(false);
	});

	test.each([
		['HTML at 502', 502, '<html>bad gateway</html>', 'lost', 'invalidResponse'],
		['an empty 200', 200, '', 'lost', 'invalidResponse'],
		['a gateway’s JSON at 500', 500, { error: 'upstream' }, 'lost', 'invalidResponse'],
		['the IP-ban JSON', 200, { status: 1111, wait: 5, source: 'x5', punish: 'deny', uuid: 'u' }, 'throttled', 'ipBanned'],
		['an IP-ban page as HTML at 403', 403, '<html>访问被拒绝</html>', 'lost', 'invalidResponse'],
		['401 without a body', 401, '', 'tokenRejected', 'http401'],
		['429 without DingTalk’s body', 429, '<html>slow down</html>', 'throttled', 'http429'],
		['404 without DingTalk’s body', 404, '<html>not found</html>', 'configuration', 'http404'],
	])('%s is %s', (_name, status, body, kind, code) => {
		expect(classifyAnswer(RECALL, status, body)).toMatchObject({ kind, code });
	});

	test('the IP ban says how long to wait', () => {
		expect(classifyAnswer(TOKEN, 200, { status: 1111, wait: 5 }).waitSeconds).toBe(5);
	});

	test('a JSON body that came as text is read as JSON', () => {
		expect(classifyAnswer(RECALL, 200, '{"successResult":["a"],"failedResult":{}}').kind).toBe('ok');
	});
});

describe('the oapi host (work notifications)', () => {
	test.each([
		[{ errcode: 0, errmsg: 'ok' }, 'ok', 'ok'],
		[{ errcode: 42001 }, 'tokenRejected', '42001'],
		[{ errcode: 40001 }, 'tokenRejected', '40001'],
		[{ errcode: 41001 }, 'tokenRejected', '41001'],
		[{ errcode: 40014, errmsg: '不合法的access_token' }, 'tokenRejected', '40014'],
		[{ errcode: 88, sub_code: '40014', sub_msg: 'bad token' }, 'tokenRejected', '40014'],
		[{ errcode: 88, sub_code: '40000' }, 'tokenRejected', '40000'],
		[{ errcode: 90018 }, 'throttled', '90018'],
		[{ errcode: 88, sub_code: '90018', sub_msg: 'qps' }, 'throttled', '90018'],
		[{ errcode: 88, errmsg: 'ding talk error[subcode=90002,submsg=当前所有钉钉应用调用该接口次数过多]' }, 'throttled', '90002'],
		[{ errcode: 88, errmsg: 'ding talk error[subcode=40014,submsg=不合法的access_token]' }, 'tokenRejected', '40014'],
		[{ errcode: -1, errmsg: '系统繁忙' }, 'throttled', '-1'],
		[{ errcode: 60011 }, 'configuration', '60011'],
		[{ errcode: 60020 }, 'configuration', '60020'],
		[{ errcode: 90020 }, 'configuration', '90020'],
		[{ errcode: 22, errmsg: 'Invalid method[topapi.message.x]' }, 'configuration', '22'],
		[{ errcode: 400002, errmsg: 'Invalid agentId or taskId' }, 'refused', '400002'],
		[{ errcode: 88, sub_code: '400002', sub_msg: 'x' }, 'refused', '400002'],
		[{ errcode: 123456, errmsg: 'unknown' }, 'failed', '123456'],
		[{ ok: true }, 'lost', 'invalidResponse'],
		[{ status: 1111, wait: 5 }, 'throttled', 'ipBanned'],
	])('%j is %s with code %s', (body, kind, code) => {
		expect(classifyAnswer(WORK, 200, body)).toMatchObject({ kind, code });
	});

	test('errcode 0 at a non-2xx status is not a success', () => {
		expect(classifyAnswer(WORK, 500, { errcode: 0 }).kind).not.toBe('ok');
	});
});

describe('a per-key answer', () => {
	test('names each key: recalled, refused with a documented key code, failed internally, or refused for a reason of DingTalk’s own', () => {
		const verdicts = keyVerdicts({
			successResult: ['a'],
			failedResult: { b: 'reason.x', d: 'invalid.processQueryKey', e: 'SYSTEM_ERROR', f: 'system error', g: 'toString', h: '' },
		});
		expect(Object.fromEntries(verdicts)).toEqual({
			a: { recalled: true },
			b: { recalled: false, reason: 'reason.x', kind: 'refused', documented: false },
			d: { recalled: false, reason: 'invalid.processQueryKey', kind: 'refused', documented: true },
			e: { recalled: false, reason: 'SYSTEM_ERROR', kind: 'failed', documented: false },
			f: { recalled: false, reason: 'system error', kind: 'failed', documented: false },
			g: { recalled: false, reason: 'toString', kind: 'refused', documented: false },
			h: { recalled: false, reason: 'failed', kind: 'refused', documented: false },
		});
		expect(verdicts.has('c')).toBe(false);
	});

	test('a body without the per-key fields, or with empty ones, names no key', () => {
		expect(keyVerdicts({ code: 'x' }).size).toBe(0);
		expect(keyVerdicts({ successResult: [], failedResult: {} }).size).toBe(0);
		expect(keyVerdicts(undefined).size).toBe(0);
	});

	test('documented key codes are a set, not an object’s properties', () => {
		expect(isKeyCode('invalid.processQueryKey')).toBe(true);
		for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) expect(isKeyCode(name)).toBe(false);
	});
});

describe('a request that got no answer', () => {
	test('a timeout or a dropped connection is a lost answer; no connection at all failed before the call went; nothing of the request is echoed', () => {
		const timeout = Object.assign(new Error('timeout of 300ms exceeded'), { code: 'ECONNABORTED', config: { headers: { token: 'secret' } } });
		expect(classifyRequestFailure({ message: 'wrapped', cause: timeout })).toMatchObject({ kind: 'lost', code: 'timeout' });
		expect(classifyRequestFailure(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toMatchObject({ kind: 'lost', code: 'network' });
		const refused = classifyRequestFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', config: { data: 'secret' } }));
		expect(refused).toMatchObject({ kind: 'failed', code: 'network', message: expect.stringMatching(/refused/) });
		expect(JSON.stringify(refused)).not.toContain('secret');
	});
});

describe('the rows a review of the table questioned', () => {
	test.each(['invalidParameter.param.invalid', 'recall.ding.exception', '400002'])('%s refuses a call, but is not one of DingTalk’s documented key codes', (code) => {
		expect(isKeyCode(code)).toBe(false);
	});

	test.each(['invalid.processQueryKey', 'robot.processQueryKey.expired', 'processQueryKey.expireTime', 'not.allowed.robotCode', 'invalidParameter.processQueryKey.missing'])(
		'%s is a documented key code',
		(code) => {
			expect(isKeyCode(code)).toBe(true);
		},
	);

	test.each(['system.busy', 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', 'ServiceException'])('a failedResult reason %s is worth a repeat', (reason) => {
		expect(keyVerdicts({ failedResult: { k: reason } }).get('k')).toMatchObject({ recalled: false, kind: 'failed', documented: false });
	});

	test('a per-key answer at 4xx without a code is DingTalk’s answer, not a lost one', () => {
		const answer = classifyAnswer(RECALL, 400, { successResult: ['a'], failedResult: { b: 'invalid.processQueryKey' } });
		expect(answer.kind).toBe('refused');
		expect(answer.body).toBeDefined();
	});

	test('errcode 88 with an empty sub_code takes the code its errmsg wraps', () => {
		const answer = classifyAnswer(WORK, 200, { errcode: 88, sub_code: '', errmsg: 'ding talk error[subcode=90018,submsg=qps limit]' });
		expect(answer).toMatchObject({ kind: 'throttled', code: '90018', message: 'qps limit' });
	});

	test('on the api host a numeric code is not DingTalk’s: a gateway’s JSON error at 502 is a lost answer', () => {
		expect(classifyAnswer(RECALL, 502, { code: 502, message: 'Bad Gateway' })).toMatchObject({ kind: 'lost', code: 'invalidResponse' });
	});

	test('a result field that is null is no result: a DING answer with openDingId null is not a recall', () => {
		expect(classifyAnswer(DING, 200, { openDingId: null }).kind).toBe('lost');
		expect(classifyAnswer(DING, 200, { openDingId: null, code: 'recall.ding.exception', message: 'x' }).kind).toBe('refused');
	});
});
