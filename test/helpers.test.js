'use strict';
/** The node's small pure functions, called directly from the built package. */
const path = require('node:path');

const dist = (file) => require(path.resolve(__dirname, '../dist/nodes/DingTalkRecallMessage', file));
const shared = (file) => require(path.resolve(__dirname, '../dist/nodes/DingTalk', file));
const { parseProcessQueryKeys, parseMsgTaskIds, parseAgentId, parseRobotCode } = shared('helpers/inputs.js');
const { chunk, uniqueByPool, runWithConcurrency } = shared('helpers/batching.js');

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

describe('the key ledger: one rule for unclear keys', () => {
	const { KeyLedger } = dist('helpers/keyLedger.js');
	const { notRecalled, outputItem } = dist('helpers/results.js');
	const { keyVerdicts } = require(path.resolve(__dirname, '../dist/credentials/DingTalkAnswers.js'));
	const lost = { kind: 'lost', code: 'timeout', message: 'timed out' };
	const refused = (key, reason) => keyVerdicts({ successResult: [], failedResult: { [key]: reason } });
	/** The output item the user would see for the key. */
	const seen = (ledger, key) => {
		const { outcome, mayBeRecalled } = ledger.report(key, notRecalled('notReported', 'none'));
		return outputItem({}, outcome, 0, mayBeRecalled).json;
	};

	test('a clear refusal, no answer lost: not mayBeRecalled, never asked', () => {
		const ledger = new KeyLedger();
		ledger.perKeyAnswer(['a'], refused('a', 'invalid.processQueryKey'));
		expect(seen(ledger, 'a')).toMatchObject({ recalled: false, errorCode: 'invalid.processQueryKey' });
		expect(seen(ledger, 'a')).not.toHaveProperty('mayBeRecalled');
		expect(ledger.needsReadStatus('a')).toBe(false);
	});

	test('a reason DingTalk does not document: worth asking the read status (it may be recalled before), still not mayBeRecalled', () => {
		const ledger = new KeyLedger();
		ledger.perKeyAnswer(['a'], refused('a', 'message.already.recalled'));
		expect(ledger.needsReadStatus('a')).toBe(true);
		expect(seen(ledger, 'a')).not.toHaveProperty('mayBeRecalled');
	});

	test('an answer lost, then a refusal: the refusal does not settle it', () => {
		const ledger = new KeyLedger();
		ledger.hearAttempt(['a'], lost);
		ledger.perKeyAnswer(['a'], refused('a', 'invalid.processQueryKey'));
		expect(seen(ledger, 'a')).toMatchObject({ errorCode: 'invalid.processQueryKey', mayBeRecalled: true });
		expect(seen(ledger, 'a').errorMessage).toMatch(/may have been recalled all the same/);
		expect(ledger.summary().maybeRecalled).toBe(1);
	});

	test('a per-key answer that does not name a key leaves it unheard, and asks for it again', () => {
		const ledger = new KeyLedger();
		const again = ledger.perKeyAnswer(['a', 'b', 'c'], keyVerdicts({ successResult: ['a'], failedResult: { c: 'SYSTEM_ERROR' } }));
		expect(again).toEqual(['b', 'c']);
		expect(seen(ledger, 'b')).toMatchObject({ errorCode: 'notReported', mayBeRecalled: true });
		expect(seen(ledger, 'c')).not.toHaveProperty('mayBeRecalled');
	});

	test('the read status settles an unheard key: recalled, still there, or nothing to go by', () => {
		const ledger = new KeyLedger();
		ledger.answerLost(['a', 'b', 'c'], notRecalled('timeout', 'No answer.'));
		ledger.readStatusShows('a', 'recalled', 'r-1');
		ledger.readStatusShows('b', 'notRecalled');
		ledger.readStatusShows('c', 'unavailable');
		expect(seen(ledger, 'a')).toEqual({ recalled: true, alreadyRecalled: true, requestId: 'r-1' });
		expect(seen(ledger, 'b')).not.toHaveProperty('mayBeRecalled');
		expect(seen(ledger, 'b').errorMessage).toMatch(/read status shows the message was not recalled/);
		expect(seen(ledger, 'c')).toMatchObject({ mayBeRecalled: true, errorMessage: expect.stringMatching(/could not be asked either/) });
		expect(ledger.summary()).toMatchObject({ recalledByRun: [], confirmedByStatus: 1 });
	});

	test('a recall DingTalk confirmed stays, whatever comes after', () => {
		const ledger = new KeyLedger();
		ledger.perKeyAnswer(['a'], keyVerdicts({ successResult: ['a'] }));
		ledger.tell('a', notRecalled('cancelled', 'Stopped.'));
		ledger.hearAttempt(['a'], lost);
		expect(seen(ledger, 'a')).toMatchObject({ recalled: true });
		expect(ledger.summary().recalledByRun).toEqual(['a']);
	});
});
