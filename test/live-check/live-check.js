'use strict';
/**
 * `npm run live-check`: proves the node on a real DingTalk app, and shows where DingTalk's answers drift
 * from the project's test server. Settings come from DINGTALK_* environment variables (see
 * docs/live-check.md); without them it prints what it needs and exits 0.
 *
 * It sends a few test messages with the built DingTalk Send Message node and recalls them with the built
 * DingTalk Recall Message node, both in n8n's engine, checks every outcome against the SPEC, and runs the same
 * scenario against the test server (in-process, loopback) to compare the raw answers, which a recording
 * proxy on 127.0.0.1 captures. Exit code: 0 every outcome as promised, 1 an outcome breaks the SPEC,
 * 2 something could not be proven (a send failed, an answer was lost, bad settings).
 */
const fs = require('node:fs');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { readSettings, needsText, parseArguments } = require('./settings');
const { RecordingProxy, MESSAGE_LIMIT } = require('./recording-proxy');
const { runScenario, plannedSends, plannedRecalls } = require('./scenario');
const { judge, judgeSend } = require('./verdicts');
const { Redactor, compareAnswers, markdownReport } = require('./report');

const EXIT = { ok: 0, specBroken: 1, notProven: 2 };

/** Secrets that must never reach stdout or stderr, whatever prints them. */
const neverPrinted = [];

function say(text = '', stream = process.stdout) {
	let shown = String(text);
	for (const secret of neverPrinted) shown = shown.split(secret).join('<redacted>');
	stream.write(`${shown}\n`);
}

function shortKey(key) {
	const text = String(key ?? '');
	return text.length > 16 ? `${text.slice(0, 8)}…${text.slice(-5)}` : text;
}

function printTable(rows, columns) {
	const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column] ?? '').length)));
	const line = (values) => values.map((value, index) => String(value ?? '').padEnd(widths[index])).join('  ').trimEnd();
	say(line(columns));
	say(line(widths.map((width) => '-'.repeat(width))));
	for (const row of rows) say(line(columns.map((column) => row[column])));
}

function printPlan(settings) {
	const sends = plannedSends(settings);
	say('Dry run: nothing is sent. A run with these settings would:');
	say(`  get an access token:  POST ${settings.apiBaseUrl}/v1.0/oauth2/accessToken (DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET)`);
	say('send with the DingTalk Send Message node in n8n\'s engine, one run each (its parameters, and the API it calls):');
	for (const send of sends) {
		const base = send.host === 'api' ? settings.apiBaseUrl : settings.oapiBaseUrl;
		const { options: _options, ...parameters } = send.parameters;
		say(`  ${send.case}:  ${JSON.stringify(parameters)} → POST ${base}${send.path}`);
	}
	say('then recall with the DingTalk Recall Message node in n8n\'s engine, each fed the Send node\'s Success item, one run each:');
	for (const recall of plannedRecalls(settings)) say(`  ${recall.case}:  ${recall.kind.operation}`);
	say(`${sends.length} message(s) to send (at most ${MESSAGE_LIMIT} per run), and the same scenario against the project's test server on 127.0.0.1.`);
}

/** Placeholders for every value of one run that must not reach the report. */
function redactorFor(run, { settings, clientId, clientSecret, neverIssuedKey, proxy }) {
	const redactor = new Redactor()
		.add(clientSecret, 'clientSecret')
		.add(clientId, 'clientId')
		.add(settings.userId, 'userId')
		.add(settings.robotCode, 'robotCode')
		.add(settings.openConversationId, 'openConversationId')
		.add(settings.agentId, 'agentId')
		.add(neverIssuedKey, 'never-issued key')
		.add(run.credentialData.accessToken, 'accessToken');
	for (const message of run.sent) redactor.add(message.key, `key of the ${message.case.replace(/^send /, '')}`);
	for (const token of tokensIn(proxy.calls)) redactor.add(token, 'accessToken');
	return redactor;
}

/** Every token a token API answered with. */
function tokensIn(calls) {
	return calls
		.filter((call) => call.path.includes('/oauth2/') && call.body)
		.map((call) => {
			try {
				return JSON.parse(call.body).accessToken;
			} catch {
				return undefined;
			}
		})
		.filter((token) => typeof token === 'string' && token !== '');
}

/** The scenario against one pair of base URLs, through a recording proxy. */
async function checkAgainst({ targets, waitBeforeRecallMs, ...scenario }) {
	const proxy = await new RecordingProxy(targets).start();
	try {
		const run = await runScenario({ ...scenario, proxy, waitBeforeRecallMs });
		const secrets = [scenario.clientSecret, run.credentialData.accessToken, ...tokensIn(proxy.calls)].filter(Boolean);
		const redactor = redactorFor(run, { ...scenario, proxy });
		const sends = run.sent.map((send) => ({ ...send, ...judgeSend(send, secrets) }));
		const outcomes = run.outcomes.map((outcome) => ({ ...outcome, ...judge(outcome, secrets) }));
		return { run, proxy, redactor, sends, outcomes };
	} finally {
		// Also when the run broke off: whatever prints its error must not print a token.
		neverPrinted.push(scenario.clientSecret, ...tokensIn(proxy.calls));
		await proxy.stop();
	}
}

/** The same scenario against the project's test server, set up with this app's robot, group and agent. */
async function checkAgainstTestServer(settings, neverIssuedKey) {
	const { DingTalkServer } = require('../support/dingtalk-server');
	const clientId = 'live-check-reference-app';
	const clientSecret = randomBytes(16).toString('hex');
	const server = await new DingTalkServer({
		apps: { [clientId]: clientSecret },
		robots: [settings.robotCode],
		agents: settings.agentId ? [settings.agentId] : [],
		conversations: settings.openConversationId ? { [settings.openConversationId]: { kind: 'group', robots: [settings.robotCode] } } : {},
	}).start();
	try {
		return await checkAgainst({ targets: { api: server.apiBaseUrl, oapi: server.oapiBaseUrl }, settings, clientId, clientSecret, neverIssuedKey, waitBeforeRecallMs: 0 });
	} finally {
		await server.stop();
	}
}

function outcomeRow(outcome, redactor, { forReport }) {
	const item = outcome.items?.[0];
	const flag = item?.json.alreadyRecalled ? ' (alreadyRecalled)' : item?.json.mayBeRecalled ? ' (mayBeRecalled)' : '';
	return {
		case: outcome.case,
		operation: outcome.operation,
		key: outcome.key === undefined ? '—' : forReport ? redactor.text(outcome.key) : shortKey(outcome.key),
		output: item ? `${item.output}${flag}` : '—',
		code: item?.json.errorCode ?? '',
		verdict: outcome.verdict,
		reason: forReport ? redactor.text(outcome.reason) : outcome.reason,
	};
}

function sendRow(send, redactor, { forReport }) {
	const failed = send.items.find((item) => item.output === 'Failed');
	const success = send.items.find((item) => item.output === 'Success');
	return {
		case: send.case,
		operation: send.operation,
		key: send.key === undefined ? '—' : forReport ? redactor.text(send.key) : shortKey(send.key),
		output: [success && 'Success', failed && `Failed${failed.json.maybeSent ? ' (maybeSent)' : ''}`].filter(Boolean).join(' + ') || '—',
		code: failed?.json.errorCode ?? '',
		verdict: send.verdict,
		reason: forReport ? redactor.text(send.reason) : send.reason,
	};
}

function sendSummary(message, proxy, redactor) {
	if (message.verdict === 'FAIL') return `  ${message.case}: FAIL (${message.reason})`;
	if (message.key !== undefined && message.verdict === 'pass') return `  ${message.case}: sent, key ${shortKey(message.key)}`;
	if (message.key !== undefined) return `  ${message.case}: not proven, key ${shortKey(message.key)}: ${message.reason}`;
	const maybeSent = message.items.some((item) => item.json.maybeSent === true);
	const status = maybeSent ? 'MAY HAVE BEEN SENT' : 'NOT SENT';
	const after = maybeSent ? `: without its ${message.idField} the check cannot recall it` : '';
	// The last call of this step says why: the send itself, or the token request before it.
	const answer = proxy.calls.filter((call) => call.case === message.case).at(-1);
	if (!answer) return `  ${message.case}: ${status} (no call went out${message.stopped ? `; the node stopped: ${message.stopped}` : ''})`;
	let said = `${answer.path}: ${answer.error ? `no answer (${answer.error})` : `HTTP ${answer.status}`}`;
	try {
		const body = JSON.parse(answer.body);
		said += ` ${body.code ?? body.errcode ?? ''} ${body.message ?? body.errmsg ?? ''}`;
	} catch {
		// Not JSON: the status says enough here; the report shows the shape.
	}
	return `  ${message.case}: ${status} (${redactor.text(said.trim())})${after}`;
}

async function main() {
	let options;
	try {
		options = parseArguments(process.argv.slice(2));
	} catch (error) {
		say(error.message, process.stderr);
		return EXIT.notProven;
	}
	const { missing, settings, problems } = readSettings(process.env);
	if (missing) {
		say(needsText(missing));
		return EXIT.ok;
	}
	neverPrinted.push(settings.clientSecret);
	if (problems.length) {
		for (const problem of problems) say(problem, process.stderr);
		return EXIT.notProven;
	}
	if (plannedSends(settings).length > MESSAGE_LIMIT) throw new Error(`The plan sends more than ${MESSAGE_LIMIT} messages`);
	if (options.dryRun) {
		printPlan(settings);
		return EXIT.ok;
	}

	// The check runs the built node: build it first when a source is newer than dist/.
	await require('../support/build-if-stale')();
	const neverIssuedKey = randomBytes(32).toString('base64');
	const targets = { api: settings.apiBaseUrl, oapi: settings.oapiBaseUrl };
	say(`Live check against ${targets.api} and ${targets.oapi}`);
	const live = await checkAgainst({
		targets,
		settings,
		clientId: settings.clientId,
		clientSecret: settings.clientSecret,
		neverIssuedKey,
		waitBeforeRecallMs: options.waitBeforeRecallSeconds * 1000,
	});
	const reference = await checkAgainstTestServer(settings, neverIssuedKey);

	say(`\nSent ${live.proxy.messagesSent} message(s) (at most ${MESSAGE_LIMIT}) with the DingTalk Send Message node in n8n's engine:`);
	for (const message of live.sends) say(sendSummary(message, live.proxy, live.redactor));
	say('\nRecalled with the DingTalk Recall Message node in n8n\'s engine:');
	printTable(live.outcomes.map((outcome) => outcomeRow(outcome, live.redactor, { forReport: false })), ['case', 'operation', 'key', 'output', 'code', 'verdict', 'reason']);

	const answers = compareAnswers(live.proxy.calls, live.redactor, reference.proxy.calls, reference.redactor);
	const drift = answers.flatMap((answer) => answer.drift.map((difference) => ({ case: answer.case, call: answer.call, difference })));
	const report = {
		finishedAt: new Date().toISOString(),
		target: targets,
		testServer: 'test/support/dingtalk-server.js, started in-process on 127.0.0.1 with the same robot, group and agent',
		messagesSent: live.proxy.messagesSent,
		messageLimit: MESSAGE_LIMIT,
		sends: live.sends.map((send) => sendRow(send, live.redactor, { forReport: true })),
		testServerSends: reference.sends.map((send) => sendRow(send, reference.redactor, { forReport: true })),
		outcomes: live.outcomes.map((outcome) => outcomeRow(outcome, live.redactor, { forReport: true })),
		testServerOutcomes: reference.outcomes.map((outcome) => outcomeRow(outcome, reference.redactor, { forReport: true })),
		answers,
		drift,
	};
	const reportPath = path.resolve(options.reportPath);
	const markdownPath = reportPath.replace(/(\.json)?$/, '.md');
	fs.mkdirSync(path.dirname(reportPath), { recursive: true });
	fs.writeFileSync(reportPath, `${JSON.stringify(report, null, '\t')}\n`);
	fs.writeFileSync(markdownPath, markdownReport(report));

	say(`\nDrift: ${drift.length ? `${drift.length} difference(s) between DingTalk's answers and the test server's` : 'none, the test server answers as DingTalk did'}.`);
	for (const entry of drift) say(`  ${entry.case}, ${entry.call}: ${entry.difference}`);
	const referenceProblems = [...reference.sends, ...reference.outcomes].filter((outcome) => outcome.verdict !== 'pass');
	for (const outcome of referenceProblems) say(`Against the test server, "${outcome.case}" was ${outcome.verdict}: ${reference.redactor.text(outcome.reason)}`);
	say(`Report: ${reportPath} (and ${path.basename(markdownPath)})`);

	const verdicts = [...live.sends, ...live.outcomes].map((outcome) => outcome.verdict);
	if (verdicts.includes('FAIL')) {
		say('\nAn outcome breaks the SPEC (verdict FAIL).');
		return EXIT.specBroken;
	}
	if (verdicts.includes('not proven')) {
		say('\nSome cases could not be proven (verdict "not proven"): see the reasons, and docs/live-check.md for the setup.');
		return EXIT.notProven;
	}
	say('\nEvery outcome is what the SPEC promises.');
	return EXIT.ok;
}

main().then(
	(code) => {
		process.exitCode = code;
	},
	(error) => {
		say(`The live check failed: ${error?.stack ?? error}`, process.stderr);
		process.exitCode = EXIT.notProven;
	},
);
