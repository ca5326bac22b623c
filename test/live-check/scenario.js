'use strict';
/**
 * The round trip the live check makes against one pair of base URLs: it sends test messages with the
 * built DingTalk Send Message node in n8n's engine, then hands each message's Success item to the built
 * DingTalk Recall Message node, one run per operation, plus a key DingTalk never issued and a second recall.
 */
const { PATHS } = require('../support/dingtalk-server');

const MESSAGE_TEXT = 'n8n-nodes-dingtalk-recall live check: a test message, recalled in a moment.';

/** What each kind of message is sent with (the Send node's operation and parameters), and how the Recall node takes it back. */
const KINDS = [
	{
		kind: 'oneOnOne',
		label: 'robot one-on-one message',
		configured: () => true,
		sendOperation: 'sendRobotOneOnOneMessage',
		sendParameters: (settings) => ({ robotCode: settings.robotCode, userIds: settings.userId, messageType: 'text', text: MESSAGE_TEXT }),
		toPeople: true,
		host: 'api',
		path: PATHS.batchSend,
		operation: 'recallRobotOneOnOneMessages',
		idField: 'processQueryKey',
	},
	{
		kind: 'group',
		label: 'robot group message',
		configured: (settings) => Boolean(settings.openConversationId),
		sendOperation: 'sendRobotGroupMessage',
		sendParameters: (settings) => ({ robotCode: settings.robotCode, openConversationId: settings.openConversationId, messageType: 'text', text: MESSAGE_TEXT }),
		toPeople: false,
		host: 'api',
		path: PATHS.groupSend,
		operation: 'recallRobotGroupMessages',
		idField: 'processQueryKey',
	},
	{
		kind: 'workNotification',
		label: 'work notification',
		configured: (settings) => Boolean(settings.agentId),
		sendOperation: 'sendWorkNotification',
		sendParameters: (settings) => ({ agentId: settings.agentId, userIds: settings.userId, messageType: 'text', text: MESSAGE_TEXT }),
		toPeople: true,
		host: 'oapi',
		path: PATHS.workNotificationSend,
		operation: 'recallWorkNotification',
		idField: 'msgTaskId',
	},
	{
		kind: 'ding',
		label: 'DING (in-app)',
		configured: (settings) => settings.ding,
		sendOperation: 'sendRobotDingMessage',
		// In-app only: never an SMS or a phone call.
		sendParameters: (settings) => ({ robotCode: settings.robotCode, userIds: settings.userId, remindType: 'app', content: MESSAGE_TEXT }),
		toPeople: true,
		host: 'api',
		path: PATHS.dingSend,
		operation: 'recallRobotDingMessages',
		idField: 'openDingId',
	},
];

/** The messages a run sends for these settings, in order. */
function plannedSends(settings) {
	return KINDS.filter((kind) => kind.configured(settings)).map((kind) => ({
		...kind,
		case: `send ${kind.label}`,
		parameters: { operation: kind.sendOperation, ...kind.sendParameters(settings), options: {} },
		recipients: kind.toPeople ? [settings.userId] : [],
	}));
}

/** The recall runs, each with what the SPEC promises for it (`expect`). */
function plannedRecalls(settings) {
	const [oneOnOne] = KINDS;
	return [
		...KINDS.filter((kind) => kind.configured(settings)).map((kind) => ({ kind, case: `recall ${kind.label}`, inputFrom: kind.kind, expect: 'recalled' })),
		{ kind: oneOnOne, case: 'recall a key DingTalk never issued', inputFrom: 'neverIssued', expect: 'refused' },
		{ kind: oneOnOne, case: `recall the ${oneOnOne.label} again`, inputFrom: oneOnOne.kind, expect: 'recalledBefore' },
	];
}

/** Both outputs of one node run, in one list: `{ output: 'Success' | 'Failed', json, pairedItem }`. */
function itemsOf(result) {
	return [...result.success.map((item) => ({ output: 'Success', ...item })), ...result.failed.map((item) => ({ output: 'Failed', ...item }))];
}

/** The Success item to recall: the one that reached the test user (or the group), else any message DingTalk created. */
function messageToRecall(send, items) {
	const created = items.filter((item) => item.output === 'Success' && item.json[send.idField] !== undefined && item.json[send.idField] !== '');
	const reached = created.find((item) => !send.toPeople || (Array.isArray(item.json.userIds) && item.json.userIds.includes(send.recipients[0])));
	return reached ?? created[0];
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends, then recalls, through `proxy` (a started RecordingProxy in front of the target).
 * @returns {Promise<{ sent: object[], outcomes: object[], credentialData: object }>}
 */
async function runScenario({ settings, clientId, clientSecret, proxy, neverIssuedKey, waitBeforeRecallMs }) {
	// Loaded here: the engine and the built nodes are needed only when something is sent.
	const { runNode, CredentialsHelper } = require('../support/n8n-harness');
	const credentials = new CredentialsHelper();
	credentials.add('cred-1', {
		appType: 'internal',
		clientId,
		clientSecret,
		environment: 'custom',
		apiBaseUrl: proxy.apiBaseUrl,
		oapiBaseUrl: proxy.oapiBaseUrl,
		accessToken: '',
	});

	// What each recall takes as its input item: a Send node's Success item, as a flow that recalls its messages has.
	const inputs = { neverIssued: { robotCode: settings.robotCode, processQueryKey: neverIssuedKey } };
	const sent = [];
	for (const send of plannedSends(settings)) {
		proxy.currentCase = send.case;
		const result = await runNode({ send: true, items: [{}], credentials, parameters: send.parameters });
		const items = itemsOf(result);
		const message = messageToRecall(send, items);
		if (message) inputs[send.kind] = message.json;
		sent.push({
			case: send.case,
			kind: send.kind,
			operation: send.sendOperation,
			idField: send.idField,
			toPeople: send.toPeople,
			recipients: send.recipients,
			key: message?.json[send.idField],
			stopped: result.error ? String(result.error.message ?? result.error) : undefined,
			items,
		});
	}

	if (waitBeforeRecallMs > 0 && sent.some((message) => message.key !== undefined)) await wait(waitBeforeRecallMs);

	const outcomes = [];
	for (const recall of plannedRecalls(settings)) {
		proxy.currentCase = recall.case;
		const input = inputs[recall.inputFrom];
		const key = input?.[recall.kind.idField];
		const outcome = { case: recall.case, operation: recall.kind.operation, idField: recall.kind.idField, key, expect: recall.expect };
		if (key === undefined) {
			const send = sent.find((message) => message.kind === recall.inputFrom);
			const maybeSent = send?.items.some((item) => item.json.maybeSent === true);
			outcomes.push({ ...outcome, skipped: maybeSent ? `the ${recall.kind.label} may have been sent, but its ${recall.kind.idField} was lost` : `the ${recall.kind.label} was not sent` });
			continue;
		}
		const first = outcomes.find((earlier) => earlier.key === key);
		if (recall.expect === 'recalledBefore' && first?.items?.[0]?.output !== 'Success') {
			// A second recall proves something only of a message the first one recalled.
			outcomes.push({ ...outcome, skipped: 'the first recall did not succeed' });
			continue;
		}
		// Only the operation: the Recall node's defaults read the ID, robotCode, openConversationId and agentId from the item.
		const result = await runNode({ items: [input], credentials, parameters: { operation: recall.kind.operation, options: {} } });
		outcomes.push({
			...outcome,
			stopped: result.error ? String(result.error.message ?? result.error) : undefined,
			items: itemsOf(result),
		});
	}
	return { sent, outcomes, credentialData: credentials.dataOf('cred-1') };
}

module.exports = { runScenario, plannedSends, plannedRecalls, MESSAGE_TEXT };
