'use strict';
/**
 * Each send and each recall outcome against what /work/shared/SPEC.md (README "Output items") promises:
 * - `pass`: the outcome is what the SPEC promises for this case;
 * - `FAIL`: the outcome breaks the SPEC;
 * - `not proven`: the SPEC holds, but the case could not show what it is for (the send failed, an answer
 *   was lost, the node stopped on a configuration error, DingTalk refused a fresh message).
 */

/** Codes the node gives itself, not DingTalk's (README "Output items"). */
const NODE_CODES = new Set(['invalidInput', 'timeout', 'network', 'invalidResponse', 'notReported', 'cancelled', 'unknown']);

/** DingTalk's documented key codes: a key refused with one is clearly not recalled, never mayBeRecalled (SPEC). */
const KEY_CODES = new Set(['invalid.processQueryKey', 'robot.processQueryKey.expired', 'not.allowed.robotCode', 'invalidParameter.processQueryKey.missing']);

const POOL_FIELDS = {
	recallRobotOneOnOneMessages: ['robotCode'],
	recallRobotGroupMessages: ['robotCode', 'openConversationId'],
	recallRobotPrivateChatMessages: ['robotCode', 'openConversationId'],
	recallRobotDingMessages: ['robotCode'],
	recallWorkNotification: ['agentId'],
};

const nonEmptyString = (value) => typeof value === 'string' && value.trim() !== '';

/** What any output item must be, whatever the case: the SPEC's table of fields. */
function itemProblems(outcome, item, secrets) {
	const { json } = item;
	const problems = [];
	if (json.operation !== outcome.operation) problems.push(`operation is ${json.operation}`);
	if (String(json[outcome.idField]) !== String(outcome.key)) problems.push(`${outcome.idField} is not the key given`);
	for (const field of POOL_FIELDS[outcome.operation]) if (json[field] === undefined) problems.push(`no ${field}`);
	if ('error' in json) problems.push('a top-level error key');
	if (item.pairedItem?.item !== 0) problems.push('not paired to its input item');
	if (item.output === 'Success') {
		if (json.recalled !== true) problems.push('Success without recalled: true');
		for (const field of ['errorCode', 'errorMessage', 'mayBeRecalled']) if (field in json) problems.push(`Success with ${field}`);
	} else {
		if (json.recalled !== false) problems.push('Failed without recalled: false');
		if (!nonEmptyString(json.errorCode)) problems.push('Failed without an errorCode');
		if (!nonEmptyString(json.errorMessage)) problems.push('Failed without an errorMessage');
		if ('alreadyRecalled' in json) problems.push('Failed with alreadyRecalled');
		if ('mayBeRecalled' in json && json.mayBeRecalled !== true) problems.push('mayBeRecalled that is not true');
	}
	const text = JSON.stringify(json);
	if (secrets.some((secret) => secret && text.includes(secret))) problems.push('a secret or token in the output item');
	return problems;
}

/**
 * The verdict for one outcome of `runScenario`.
 * @param {string[]} secrets the client secret and every token of the run: never in an output item
 * @returns {{ verdict: 'pass' | 'FAIL' | 'not proven', reason: string }}
 */
function judge(outcome, secrets) {
	if (outcome.skipped) return { verdict: 'not proven', reason: outcome.skipped };
	if (outcome.stopped) return { verdict: 'not proven', reason: `the node stopped: ${outcome.stopped}` };
	if (outcome.items.length !== 1) return { verdict: 'FAIL', reason: `${outcome.items.length} output items for one key` };
	const [item] = outcome.items;
	const problems = itemProblems(outcome, item, secrets);
	if (problems.length) return { verdict: 'FAIL', reason: problems.join('; ') };

	const { json } = item;
	const lost = item.output === 'Failed' && (json.mayBeRecalled === true || NODE_CODES.has(json.errorCode));
	switch (outcome.expect) {
		case 'recalled':
			if (item.output === 'Success') return { verdict: 'pass', reason: json.alreadyRecalled ? 'recalled (confirmed by read status)' : 'recalled' };
			if (lost) return { verdict: 'not proven', reason: `the answer was lost (${json.errorCode}); the message may be recalled` };
			return { verdict: 'not proven', reason: `DingTalk refused to recall the message just sent (${json.errorCode})` };
		case 'refused':
			if (item.output === 'Success') return { verdict: 'FAIL', reason: 'Success for a key DingTalk never issued' };
			if (json.mayBeRecalled && KEY_CODES.has(json.errorCode)) return { verdict: 'FAIL', reason: `mayBeRecalled on a clear refusal (${json.errorCode})` };
			if (lost) return { verdict: 'not proven', reason: `DingTalk's answer left it unclear (${json.errorCode})` };
			return { verdict: 'pass', reason: "Failed with DingTalk's code, not mayBeRecalled" };
		case 'recalledBefore':
			// This run's call cannot recall a recalled message: Success must be the read status's word.
			if (item.output === 'Success' && json.alreadyRecalled !== true) {
				return { verdict: 'FAIL', reason: 'Success without alreadyRecalled for a message recalled before: DingTalk said it recalled it again' };
			}
			if (item.output === 'Success') return { verdict: 'pass', reason: 'Success with alreadyRecalled (read status: RECALLED)' };
			if (NODE_CODES.has(json.errorCode)) return { verdict: 'not proven', reason: `the answer was lost (${json.errorCode})` };
			return { verdict: 'pass', reason: `Failed with DingTalk's code${json.mayBeRecalled ? ', mayBeRecalled' : ''}` };
		default:
			throw new Error(`unknown expectation ${outcome.expect}`);
	}
}

const SEND_POOL_FIELDS = {
	sendRobotOneOnOneMessage: ['robotCode'],
	sendRobotGroupMessage: ['robotCode', 'openConversationId'],
	sendRobotDingMessage: ['robotCode'],
	sendWorkNotification: ['agentId'],
};

const hasId = (value) => (typeof value === 'string' && value.trim() !== '') || typeof value === 'number';

/** What any output item of the Send node must be: the SPEC's send output items. */
function sendItemProblems(send, item, secrets) {
	const { json } = item;
	const problems = [];
	if (json.operation !== send.operation) problems.push(`operation is ${json.operation}`);
	for (const field of SEND_POOL_FIELDS[send.operation]) if (json[field] === undefined) problems.push(`no ${field}`);
	if ('error' in json) problems.push('a top-level error key');
	if (item.pairedItem?.item !== 0) problems.push('not paired to its input item');
	if (send.toPeople && !Array.isArray(json.userIds)) problems.push(`${item.output} item without userIds`);
	if (item.output === 'Success') {
		if (json.sent !== true) problems.push('Success without sent: true');
		if (!hasId(json[send.idField])) problems.push(`Success without ${send.idField}`);
		for (const field of ['errorCode', 'errorMessage', 'maybeSent']) if (field in json) problems.push(`Success with ${field}`);
	} else {
		if (json.sent !== false) problems.push('Failed without sent: false');
		if (!nonEmptyString(json.errorCode)) problems.push('Failed without an errorCode');
		if (!nonEmptyString(json.errorMessage)) problems.push('Failed without an errorMessage');
		if ('maybeSent' in json && json.maybeSent !== true) problems.push('maybeSent that is not true');
	}
	const text = JSON.stringify(json);
	if (secrets.some((secret) => secret && text.includes(secret))) problems.push('a secret or token in the output item');
	return problems;
}

/**
 * The verdict for one send of `runScenario`: one message to the test user (or the group), reported as the
 * SPEC says, with the ID its recall needs.
 * @returns {{ verdict: 'pass' | 'FAIL' | 'not proven', reason: string }}
 */
function judgeSend(send, secrets) {
	if (send.stopped) return { verdict: 'not proven', reason: `the node stopped: ${send.stopped}` };
	const problems = send.items.flatMap((item) => sendItemProblems(send, item, secrets));
	if (send.toPeople) {
		// Every recipient in exactly one item: none lost, none sent twice.
		const named = send.items.flatMap((item) => (Array.isArray(item.json.userIds) ? item.json.userIds : []));
		if (named.length !== send.recipients.length || !send.recipients.every((userId) => named.includes(userId))) {
			problems.push(`the output items name ${named.length} recipient(s) for the ${send.recipients.length} given`);
		}
	} else if (send.items.length !== 1) {
		problems.push(`${send.items.length} output items for one group message`);
	}
	if (problems.length) return { verdict: 'FAIL', reason: problems.join('; ') };

	const created = send.items.filter((item) => item.output === 'Success');
	const failed = send.items.find((item) => item.output === 'Failed');
	const reached = created.find((item) => !send.toPeople || item.json.userIds.includes(send.recipients[0]));
	if (reached) return { verdict: 'pass', reason: `sent, one Success item with its ${send.idField}` };
	if (created.length) return { verdict: 'not proven', reason: `DingTalk created the message but did not deliver it to the test user (${failed?.json.errorCode})` };
	if (failed?.json.maybeSent) {
		return { verdict: 'not proven', reason: `the answer was lost (${failed.json.errorCode}): the message may be out, and without its ${send.idField} the check cannot recall it` };
	}
	return { verdict: 'not proven', reason: `DingTalk refused the send (${failed?.json.errorCode ?? 'no output item'})` };
}

module.exports = { judge, judgeSend };
