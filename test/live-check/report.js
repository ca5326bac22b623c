'use strict';
/**
 * The shape of every answer a run recorded (status, code, message, field names and types; never a
 * value), redacted, set beside the test server's answer to the same case, and every difference listed
 * as drift.
 */

/** Replaces known values (secrets, tokens, IDs, keys) by placeholders that name their role. */
class Redactor {
	constructor() {
		this.values = new Map();
	}

	/** `value` is written `<placeholder>` from now on; short values (under 4 characters) would hit ordinary text. */
	add(value, placeholder) {
		if (value !== undefined && value !== null && String(value).length >= 4) this.values.set(String(value), `<${placeholder}>`);
		return this;
	}

	text(text) {
		let redacted = String(text);
		for (const [value, placeholder] of [...this.values].sort(([a], [b]) => b.length - a.length)) {
			redacted = redacted.split(value).join(placeholder);
		}
		return redacted
			.replace(/\b\d{1,3}(\.\d{1,3}){3}\b/g, '<ip>')
			// Anything else shaped like a token (long hex) or a key (base64 with padding, or long with many digits); never a path.
			.replace(/\b[0-9a-fA-F]{32,}\b/g, '<redacted>')
			.replace(/[A-Za-z0-9+/]{16,}={1,2}|[A-Za-z0-9+/]{40,}/g, (run) => (/=$/.test(run) || (run.match(/\d/g) ?? []).length >= 4 ? '<redacted>' : run));
	}
}

/** Every leaf of a JSON value as [path, value], an empty array or object included; map keys that are IDs become their placeholder. */
function leaves(value, redactor, prefix = '') {
	if (Array.isArray(value)) {
		return value.length ? value.flatMap((element) => leaves(element, redactor, `${prefix}[]`)) : [[prefix, value]];
	}
	if (value !== null && typeof value === 'object' && Object.keys(value).length) {
		return Object.entries(value).flatMap(([name, child]) => leaves(child, redactor, prefix ? `${prefix}.${redactor.text(name)}` : redactor.text(name)));
	}
	return [[prefix, value]];
}

function leafType(value) {
	if (value === null) return 'null';
	if (Array.isArray(value)) return '[]';
	return typeof value === 'object' ? '{}' : typeof value;
}

/**
 * Fields whose values are DingTalk's words, not data: a `failedResult` reason (none published so far),
 * a message's send status. Their values go in the report beside the field names.
 */
const WORD_FIELDS = [/^failedResult\.[^.]+$/, /^sendStatus$/];

/** `name: type` for every field, and `name = value` for the word fields, each once. */
function fieldShapes(body, redactor) {
	const all = leaves(body, redactor);
	return {
		fields: [...new Set(all.map(([name, value]) => `${name}: ${leafType(value)}`))].sort(),
		words: [...new Set(all.filter(([name]) => WORD_FIELDS.some((pattern) => pattern.test(name))).map(([name, value]) => `${name} = ${redactor.text(value)}`))].sort(),
	};
}

/** The shape of one recorded answer. */
function answerShape(call, redactor) {
	const shape = { status: call.error ? `no answer (${call.error})` : call.status, code: '', message: '', fields: [], words: [] };
	if (call.refused) shape.refusedByLiveCheck = call.refused;
	if (call.error) return shape;
	let body;
	try {
		body = JSON.parse(call.body);
	} catch {
		shape.fields = [`<not JSON: ${call.contentType ?? 'no content type'}>`];
		return shape;
	}
	if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
		const code = body.code ?? body.errcode;
		shape.code = code === undefined ? '' : `${code}${body.sub_code !== undefined ? ` / sub_code ${body.sub_code}` : ''}`;
		shape.message = redactor.text(body.message ?? body.errmsg ?? '');
	}
	return { ...shape, ...fieldShapes(body, redactor) };
}

/** Calls to the token API are their own case, whenever they happen. */
function caseOf(call) {
	return call.path.includes('/oauth2/') ? 'access token' : call.case;
}

/** Recorded calls by case, then by `METHOD path`, in order. */
function groupCalls(calls, redactor) {
	const cases = new Map();
	for (const call of calls) {
		const name = caseOf(call);
		if (!cases.has(name)) cases.set(name, new Map());
		const label = `${call.method} ${call.path}`;
		const byCall = cases.get(name);
		if (!byCall.has(label)) byCall.set(label, []);
		byCall.get(label).push(answerShape(call, redactor));
	}
	return cases;
}

function differences(answer, reference) {
	const found = [];
	for (const field of ['status', 'code', 'message']) {
		if (answer[field] !== reference[field]) found.push(`${field}: DingTalk ${JSON.stringify(answer[field])}, test server ${JSON.stringify(reference[field])}`);
	}
	for (const [list, what] of [['fields', 'fields'], ['words', 'values']]) {
		const onlyAnswer = answer[list].filter((entry) => !reference[list].includes(entry));
		const onlyReference = reference[list].filter((entry) => !answer[list].includes(entry));
		if (onlyAnswer.length) found.push(`${what} only DingTalk gave: ${onlyAnswer.join(', ')}`);
		if (onlyReference.length) found.push(`${what} only the test server gave: ${onlyReference.join(', ')}`);
	}
	return found;
}

/**
 * Every answer of the target beside the test server's answer to the same case (paired by case, call
 * and order), with the differences.
 */
function compareAnswers(targetCalls, targetRedactor, referenceCalls, referenceRedactor) {
	const target = groupCalls(targetCalls, targetRedactor);
	const reference = groupCalls(referenceCalls, referenceRedactor);
	const answers = [];
	for (const name of new Set([...target.keys(), ...reference.keys()])) {
		const targetCase = target.get(name) ?? new Map();
		const referenceCase = reference.get(name) ?? new Map();
		for (const call of new Set([...targetCase.keys(), ...referenceCase.keys()])) {
			const ours = targetCase.get(call) ?? [];
			const theirs = referenceCase.get(call) ?? [];
			for (let index = 0; index < Math.max(ours.length, theirs.length); index++) {
				const dingTalk = ours[index] ?? null;
				const testServer = theirs[index] ?? null;
				let drift;
				if (!dingTalk) drift = ['the test server was called here, DingTalk was not'];
				else if (!testServer) drift = ['DingTalk was called here, the test server was not'];
				else drift = differences(dingTalk, testServer);
				answers.push({ case: name, call, dingTalk, testServer, drift });
			}
		}
	}
	return answers;
}

function cell(text) {
	return String(text ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function shapeCell(shape) {
	if (!shape) return '—';
	const head = [`**${shape.status}**`, shape.code && `\`${cell(shape.code)}\``, shape.message && cell(shape.message)].filter(Boolean).join(' ');
	return `${head}<br>${[...shape.fields, ...shape.words].map((entry) => `\`${cell(entry)}\``).join('<br>')}`;
}

/** The report as Markdown: outcomes, then every answer beside the test server's, then the drift. */
function markdownReport(report) {
	const lines = [
		'# DingTalk live check',
		'',
		`${report.finishedAt} · api ${report.target.api} · oapi ${report.target.oapi} · ${report.messagesSent} message(s) sent (at most ${report.messageLimit})`,
		'',
		'## Sends (DingTalk Send Message node)',
		'',
		'| case | operation | key | output | code | verdict |',
		'| --- | --- | --- | --- | --- | --- |',
		...(report.sends ?? []).map((row) => `| ${cell(row.case)} | ${row.operation} | ${cell(row.key)} | ${cell(row.output)} | ${cell(row.code)} | ${cell(`${row.verdict}: ${row.reason}`)} |`),
		'',
		'## Outcomes (DingTalk Recall Message node)',
		'',
		'| case | operation | key | output | code | verdict |',
		'| --- | --- | --- | --- | --- | --- |',
		...report.outcomes.map((row) => `| ${cell(row.case)} | ${row.operation} | ${cell(row.key)} | ${cell(row.output)} | ${cell(row.code)} | ${cell(`${row.verdict}: ${row.reason}`)} |`),
		'',
		'## Answers: DingTalk beside the test server',
		'',
		'| case | call | DingTalk | test server | drift |',
		'| --- | --- | --- | --- | --- |',
		...report.answers.map((answer) => `| ${cell(answer.case)} | \`${answer.call}\` | ${shapeCell(answer.dingTalk)} | ${shapeCell(answer.testServer)} | ${answer.drift.map(cell).join('<br>') || 'none'} |`),
		'',
		'## Drift',
		'',
		...(report.drift.length ? report.drift.map((entry) => `- ${entry.case}, \`${entry.call}\`: ${cell(entry.difference)}`) : ['None: the test server answers as DingTalk did.']),
		'',
	];
	return lines.join('\n');
}

module.exports = { Redactor, answerShape, fieldShapes, compareAnswers, markdownReport };
