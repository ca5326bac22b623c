'use strict';
/**
 * Property: the Send node under any answer DingTalk (or a gateway) gives. Each send call is answered by a
 * draw from a catalogue of faults and refusals, on every send API to people (robot one-on-one, DING, work
 * notification), with recipients DingTalk does not know, holds back, or takes; the token API fails too. The
 * oracle is SPEC.md's "What never happens (send)": every recipient in exactly one output item, a message never
 * sent twice, Success only for a message that went out (with the ID DingTalk gave it), Failed without
 * `maybeSent` only where the recipient got nothing.
 *
 * `npm test` runs fixed seeds; `FC_SEED=<n>` (or `random`) and `FC_RUNS=<n>` run others; the seeds are printed.
 */
const fc = require('fast-check');
const { startServer, credentialsFor, PATHS } = require('./support/fixture');
const { runNode } = require('./support/n8n-harness');

const AGENT = 836390886;
const scripted = (status, body, acted = false) => ({ status, body, acted });

/** Answers every send API may give (`none`: DingTalk's own). */
const SEND_ANSWERS = [
	'none', 'none', 'none', 'none', 'none',
	'500', '502', 'html', 'empty', 'empty200', 'proxy200', 'drop', 'lostAnswer',
	scripted(200, {}, true), scripted(502, { errcode: 502, errmsg: 'Bad Gateway' }, true), scripted(504, '<html>gateway</html>', true),
	'429', 'busy200', 'systemBusy', 'ban', 'tokenExpired', 'echoToken',
	scripted(403, { code: 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', message: 'qps' }),
	scripted(400, { code: 'system.exception', message: 'internal' }),
	scripted(400, { code: 'invalidParameter.robotCode', message: 'robot not exist' }),
	'refuse:some.new.code', 'permissionDenied',
];

const WORK_ANSWERS = [
	'none', 'none', 'none', 'none', 'none', '500', '502', 'html', 'empty', 'drop', 'lostAnswer', 'systemBusy', 'tokenExpired',
	scripted(200, { errcode: 88, sub_code: '90018', sub_msg: 'qps', errmsg: 'ding talk error[subcode=90018,submsg=qps]' }),
	scripted(200, { errcode: 143104, errmsg: 'qpm' }), scripted(200, { errcode: 143106, errmsg: 'duplicate' }),
	scripted(200, { errcode: 60020, errmsg: 'ip' }), scripted(200, { errcode: 0, errmsg: 'ok' }, true),
	scripted(503, { errcode: 0, errmsg: 'ok' }, true),
];

const TOKEN_ANSWERS = ['none', 'none', '500', '502', 'drop', '429', 'busy200', 'empty200'];

const OPERATIONS = {
	sendRobotOneOnOneMessage: { path: PATHS.batchSend, answers: SEND_ANSWERS, parameters: { robotCode: 'dingRobotA', messageType: 'text', text: '={{ $json.say }}' } },
	sendRobotDingMessage: { path: PATHS.dingSend, answers: SEND_ANSWERS, parameters: { robotCode: 'dingRobotA', remindType: '={{ $json.how }}', content: '={{ $json.say }}' } },
	sendWorkNotification: { path: PATHS.workNotificationSend, answers: WORK_ANSWERS, parameters: { agentId: AGENT, messageType: 'text', text: '={{ $json.say }}' } },
};

const RECIPIENT_KINDS = ['person', 'person', 'person', 'person', 'unknown', 'heldOnce', 'heldLong'];

const scenario = fc
	.constantFrom(...Object.keys(OPERATIONS))
	.chain((operation) =>
		fc.record({
			operation: fc.constant(operation),
			items: fc.array(fc.record({ recipients: fc.array(fc.constantFrom(...RECIPIENT_KINDS), { minLength: 1, maxLength: 45 }), how: fc.constantFrom('app', 'sms') }), { minLength: 1, maxLength: 4 }),
			answers: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant('none') }, { weight: 2, arbitrary: fc.constantFrom(...OPERATIONS[operation].answers) }), { maxLength: 8 }),
			tokenAnswers: fc.array(fc.constantFrom(...TOKEN_ANSWERS), { maxLength: 2 }),
			continueOnFail: fc.boolean(),
			concurrency: fc.integer({ min: 1, max: 4 }),
			maxRetries: fc.integer({ min: 0, max: 2 }),
		}),
	);

async function neverTwiceNeverLost(spec) {
	const { path, answers, parameters } = OPERATIONS[spec.operation];
	let next = 0;
	const flowControlled = {};
	// Each item's recipients are its own: what a person received belongs to that item alone.
	const items = spec.items.map(({ recipients, how }, index) => ({
		say: `Alert ${index}`,
		how,
		to: recipients.map((kind) => {
			const userId = `${kind === 'unknown' ? 'unknown' : 'user'}-${index}-${next++}`;
			if (kind === 'heldOnce') flowControlled[userId] = 1;
			if (kind === 'heldLong') flowControlled[userId] = 99;
			return userId;
		}),
	}));
	const server = await startServer({ flowControlled });
	try {
		for (const answer of spec.answers) server.injectFault(path, answer, 1);
		for (const answer of spec.tokenAnswers) server.injectFault(PATHS.accessToken, answer, 1);
		const result = await runNode({
			send: true,
			items,
			credentials: credentialsFor(server),
			continueOnFail: spec.continueOnFail,
			parameters: { operation: spec.operation, userIds: '={{ $json.to }}', ...parameters, options: { concurrency: spec.concurrency, maxRetries: spec.maxRetries, retryDelay: 1 } },
		});
		const outputs = [...result.success.map((item) => ({ ...item, sent: true })), ...result.failed.map((item) => ({ ...item, sent: false }))];

		// Only a refusal of the whole app may stop the run, and only without Continue On Fail; then nothing more is checked but secrets.
		if (result.error) {
			expect(result.error.name).toBe('NodeApiError');
			expect(spec.continueOnFail).toBe(false);
		} else {
			// A recipient is lost: every recipient of every item in exactly one output item of that item.
			for (const [index, item] of items.entries()) {
				const told = outputs.filter((output) => output.pairedItem.item === index).flatMap((output) => output.json.userIds);
				expect([...told].sort()).toEqual([...item.to].sort());
			}
		}
		for (const { json, sent } of outputs) {
			expect(json.sent).toBe(sent);
			for (const userId of json.userIds) {
				const got = server.inbox.get(userId) ?? [];
				// A message is sent twice: never.
				expect(got.length).toBeLessThanOrEqual(1);
				if (sent) {
					// Success: DingTalk created the message, under the ID the item names, and the person got it (a work
					// notification names whom the call carried: DingTalk drops people it does not know without a word).
					const id = json.processQueryKey ?? json.openDingId ?? json.msgTaskId;
					const silentlyDropped = spec.operation === 'sendWorkNotification' && userId.startsWith('unknown');
					expect(got.map((message) => message.id)).toEqual(silentlyDropped ? [] : [id]);
				} else if (!json.maybeSent) {
					// Failed and not maybeSent: the person got nothing.
					expect(got).toEqual([]);
				}
			}
		}
		const text = JSON.stringify(result.run);
		expect(text).not.toContain('ding-app-secret');
		for (const token of server.tokens.keys()) expect(text).not.toContain(token);
	} finally {
		await server.stop();
	}
}

const FIXED_SEEDS = [20261206, 35, -77];
const RUNS_PER_SEED = Number(process.env.FC_RUNS ?? 30);

function seedsToRun() {
	const requested = process.env.FC_SEED;
	if (!requested) return FIXED_SEEDS;
	if (requested === 'random') return [Math.floor(Math.random() * 2 ** 31) * (Math.random() < 0.5 ? -1 : 1)];
	return requested.split(',').map(Number);
}

describe('property: sends under any answer, never twice, never lost', () => {
	const seeds = seedsToRun();
	// Always printed: a failure can be replayed with FC_SEED=<seed>.
	console.log(`send property: seeds ${seeds.join(', ')}, ${RUNS_PER_SEED} runs each (FC_SEED, FC_RUNS to change)`);
	test.each(seeds)('every send API to people, every answer row, Continue On Fail on and off (seed %i)', async (seed) => {
		await fc.assert(fc.asyncProperty(scenario, neverTwiceNeverLost), { seed, numRuns: RUNS_PER_SEED });
	}, 600_000);
});
