'use strict';
/** The node's small pure functions, called directly from the built package. */
const path = require('node:path');

const dist = (file) => require(path.resolve(__dirname, '../dist/nodes/DingTalkRecallMessage', file));
const { parseProcessQueryKeys, parseMsgTaskIds, parseAgentId, parseRobotCode } = dist('helpers/inputs.js');
const { chunk, uniqueByPool, runWithConcurrency } = dist('helpers/batching.js');

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
