'use strict';
/** The node's small pure functions, called directly from the built package. */
const path = require('node:path');

const dist = (file) => require(path.resolve(__dirname, '../dist/nodes/DingTalkRecallMessage', file));
const { parseProcessQueryKeys, parseMsgTaskIds, parseAgentId, parseRobotCode } = dist('helpers/inputs.js');
const { chunk, uniqueByPool, runWithConcurrency } = dist('helpers/batching.js');
const { outcomesOfBatchAnswer } = dist('helpers/results.js');
const { classifyApiAnswer, classifyOapiAnswer, classifyRequestFailure, isInternalFailure } = dist('transport/errors.js');

describe('reading keys and IDs', () => {
	test('processQueryKeys: one key, an array, or a comma list; trimmed, empty parts dropped', () => {
		expect(parseProcessQueryKeys('  a ')).toEqual({ values: ['a'], problems: [] });
		expect(parseProcessQueryKeys(' a, b ,,c,')).toEqual({ values: ['a', 'b', 'c'], problems: [] });
		expect(parseProcessQueryKeys(['a', ' b,c ', '', null])).toEqual({ values: ['a', 'b', 'c'], problems: [] });
		expect(parseProcessQueryKeys(undefined)).toEqual({ values: [], problems: [] });
	});

	test('processQueryKeys: values of the wrong type or size are problems, not keys', () => {
		const { values, problems } = parseProcessQueryKeys(['ok', 5, { a: 1 }, ['x'], 'y'.repeat(1025)]);
		expect(values).toEqual(['ok']);
		expect(problems.map((p) => p.problem)).toEqual([
			expect.stringMatching(/a number/),
			expect.stringMatching(/an object/),
			expect.stringMatching(/a nested list/),
			expect.stringMatching(/at most 1024 characters, but this one has 1025/),
		]);
	});

	test('msgTaskId and agentId take whole numbers, as numbers or digits', () => {
		expect(parseMsgTaskIds([1, '2', '3, 4'])).toEqual({ values: ['1', '2', '3', '4'], problems: [] });
		expect(parseMsgTaskIds('1.5').problems[0].problem).toMatch(/whole number/);
		expect(parseMsgTaskIds(2 ** 60).problems).toHaveLength(1);
		expect(parseAgentId(836390886)).toEqual({ value: '836390886' });
		expect(parseAgentId('1,2').problem).toMatch(/one number/);
		expect(parseRobotCode('  dingX ')).toEqual({ value: 'dingX' });
		expect(parseRobotCode(null).problem).toMatch(/must be text/);
	});
});

describe('batching', () => {
	test('chunk and uniqueByPool', () => {
		expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
		const pools = uniqueByPool([
			{ pool: 'A', value: 'k1' },
			{ pool: 'B', value: 'k1' },
			{ pool: 'A', value: 'k2' },
			{ pool: 'A', value: 'k1' },
		]);
		expect([...pools]).toEqual([
			['A', ['k1', 'k2']],
			['B', ['k1']],
		]);
	});

	test('runWithConcurrency keeps at most N tasks in flight and stops taking tasks when asked', async () => {
		let inFlight = 0;
		let peak = 0;
		const done = [];
		await runWithConcurrency([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
			inFlight++;
			peak = Math.max(peak, inFlight);
			await new Promise((resolve) => setTimeout(resolve, 5));
			inFlight--;
			done.push(n);
		}, () => done.length >= 4);
		expect(peak).toBe(3);
		expect(done.length).toBeLessThan(7);
	});
});

describe('reading DingTalk’s answers', () => {
	test('a batch recall answer maps each key; left-out keys and unexplained reasons are unclear, documented key codes final, internal failures repeated', () => {
		const outcomes = outcomesOfBatchAnswer(
			['a', 'b', 'c', 'd', 'e'],
			{ successResult: ['a'], failedResult: { b: 'reason.x', d: 'invalid.processQueryKey', e: 'SYSTEM_ERROR' } },
			'req-1',
		);
		expect(Object.fromEntries(outcomes)).toEqual({
			a: { recalled: true, requestId: 'req-1' },
			b: { recalled: false, errorCode: 'reason.x', errorMessage: expect.stringMatching(/reason\.x/), requestId: 'req-1', unclear: true },
			c: { recalled: false, errorCode: 'notReported', errorMessage: expect.any(String), requestId: 'req-1', unclear: true },
			d: { recalled: false, errorCode: 'invalid.processQueryKey', errorMessage: expect.stringMatching(/does not know/), requestId: 'req-1' },
			e: { recalled: false, errorCode: 'SYSTEM_ERROR', errorMessage: expect.any(String), requestId: 'req-1', unclear: true, passingFault: true },
		});
		expect(outcomesOfBatchAnswer(['a'], { code: 'x' })).toBeUndefined();
	});

	test.each([
		['SYSTEM_ERROR', true],
		['system error', true],
		['system.error', true],
		['System-Error', true],
		['InternalError', true],
		['systemError', true],
		['message.already.recalled', false],
		['invalid.processQueryKey', false],
		['error', false],
	])('a reason %j says DingTalk failed internally: %s', (reason, internal) => {
		expect(isInternalFailure(reason)).toBe(internal);
	});

	test.each([
		[200, { successResult: [] }, 'ok'],
		[400, { code: 'InvalidAuthentication', message: 'x' }, 'tokenRejected'],
		[401, '', 'tokenRejected'],
		[403, { code: 'Forbidden.AccessDenied.QpsLimitForApi' }, 'throttled'],
		[403, { code: 'Forbidden.AccessDenied.QpmLimitForAppkeyAndApi' }, 'throttled'],
		[429, { code: 'systemBusy' }, 'throttled'],
		[200, { status: 1111, wait: 5 }, 'throttled'],
		[403, { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied' }, 'configuration'],
		[400, { code: 'invalidParameter.robotCode' }, 'configuration'],
		[400, { code: 'invalid.processQueryKey' }, 'refused'],
		[500, { code: 'system.error' }, 'transient'],
		[502, '<html>bad gateway</html>', 'transient'],
		[200, '', 'transient'],
		// Recorded: a 2xx with a code and none of the API's result fields is an error answer.
		[200, { code: 'system.busy', message: 'system.busy', requestid: 'r' }, 'throttled'],
		[200, { code: 'SystemBusy', message: 'busy' }, 'throttled'],
		[200, { code: 'system.error', message: 'x' }, 'transient'],
		[200, { code: 'invalid.processQueryKey', message: 'x' }, 'refused'],
		[200, { code: 'x', successResult: ['a'], failedResult: {} }, 'ok'],
		[404, { code: 'InvalidAction.NotFound', message: 'Specified api is not found, please check your url and method.' }, 'configuration'],
		[400, { code: 'Missingbody', message: 'body is mandatory for this action' }, 'configuration'],
		[200, { status: 1111, wait: 5, source: 'x5', punish: 'deny', uuid: 'u' }, 'throttled'],
		[200, '<html><body>denied</body></html>', 'transient'],
	])('api host: HTTP %s %j is %s', (status, body, kind) => {
		expect(classifyApiAnswer(status, body).kind).toBe(kind);
	});

	test.each([
		[{ errcode: 0, errmsg: 'ok' }, 'ok', '0'],
		[{ errcode: 42001 }, 'tokenRejected', '42001'],
		[{ errcode: 88, sub_code: '40014', sub_msg: 'bad token' }, 'tokenRejected', '40014'],
		[{ errcode: 88, sub_code: '40000' }, 'tokenRejected', '40000'],
		[{ errcode: 90018 }, 'throttled', '90018'],
		[{ errcode: -1 }, 'transient', '-1'],
		[{ errcode: 60011 }, 'configuration', '60011'],
		[{ errcode: 400002, errmsg: 'Invalid agentId or taskId' }, 'refused', '400002'],
		// Recorded shapes: the subcode only inside errmsg, a bare 40014, errcode 22 for an unknown method.
		[{ errcode: 88, errmsg: 'ding talk error[subcode=90002,submsg=当前所有钉钉应用调用该接口次数过多]' }, 'throttled', '90002'],
		[{ errcode: 88, errmsg: 'ding talk error[subcode=90018,submsg=x]' }, 'throttled', '90018'],
		[{ errcode: 88, sub_code: '90018', sub_msg: 'qps' }, 'throttled', '90018'],
		[{ errcode: 88, errmsg: 'ding talk error[subcode=40014,submsg=不合法的access_token]' }, 'tokenRejected', '40014'],
		[{ errcode: 40014, errmsg: '不合法的access_token' }, 'tokenRejected', '40014'],
		[{ errcode: 22, errmsg: 'Invalid method[topapi.message.x]' }, 'configuration', '22'],
	])('oapi host: %j is %s with code %s', (body, kind, code) => {
		expect(classifyOapiAnswer(200, body)).toMatchObject({ kind, code });
	});

	test('a request with no answer is a timeout or a network failure, and echoes nothing of the request', () => {
		const timeout = Object.assign(new Error('timeout of 300ms exceeded'), { code: 'ECONNABORTED', config: { headers: { token: 'secret' } } });
		expect(classifyRequestFailure({ message: 'wrapped', cause: timeout })).toEqual({ kind: 'transient', code: 'timeout', message: expect.any(String), lost: true });
		const refused = classifyRequestFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
		expect(refused).toMatchObject({ code: 'network', message: expect.stringMatching(/ECONNREFUSED/) });
		expect(JSON.stringify(refused)).not.toContain('secret');
	});
});
