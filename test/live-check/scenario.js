'use strict';
/**
 * The round trip the live check makes against one pair of base URLs: it sends test messages with the
 * DingTalk API credential as n8n's HTTP Request node does, then recalls them with the built node in
 * n8n's engine, one run per operation, plus a key DingTalk never issued and a second recall.
 */
const { PATHS } = require('../support/dingtalk-server');

/** What each kind of message is sent with, and how the node recalls it. */
const KINDS = [
	{
		kind: 'oneOnOne',
		label: 'robot one-on-one message',
		configured: () => true,
		host: 'api',
		path: PATHS.batchSend,
		body: (settings, text) => ({ robotCode: settings.robotCode, userIds: [settings.userId], msgKey: 'sampleText', msgParam: JSON.stringify({ content: text }) }),
		keyOf: (answer) => answer?.processQueryKey,
		operation: 'recallRobotOneOnOneMessages',
		parameters: (settings) => ({ robotCode: settings.robotCode, processQueryKeys: '={{ $json.key }}' }),
	},
	{
		kind: 'group',
		label: 'robot group message',
		configured: (settings) => Boolean(settings.openConversationId),
		host: 'api',
		path: PATHS.groupSend,
		body: (settings, text) => ({ robotCode: settings.robotCode, openConversationId: settings.openConversationId, msgKey: 'sampleText', msgParam: JSON.stringify({ content: text }) }),
		keyOf: (answer) => answer?.processQueryKey,
		operation: 'recallRobotGroupMessages',
		parameters: (settings) => ({ robotCode: settings.robotCode, openConversationId: settings.openConversationId, processQueryKeys: '={{ $json.key }}' }),
	},
	{
		kind: 'workNotification',
		label: 'work notification',
		configured: (settings) => Boolean(settings.agentId),
		host: 'oapi',
		path: PATHS.workNotificationSend,
		body: (settings, text) => ({ agent_id: Number(settings.agentId), userid_list: settings.userId, msg: { msgtype: 'text', text: { content: text } } }),
		keyOf: (answer) => (answer?.errcode === 0 ? answer.task_id : undefined),
		operation: 'recallWorkNotification',
		parameters: (settings) => ({ agentId: settings.agentId, msgTaskId: '={{ $json.key }}' }),
	},
	{
		kind: 'ding',
		label: 'DING (in-app)',
		configured: (settings) => settings.ding,
		host: 'api',
		path: PATHS.dingSend,
		body: (settings, text) => ({ robotCode: settings.robotCode, remindType: 1, receiverUserIdList: [settings.userId], content: text }),
		keyOf: (answer) => answer?.openDingId,
		operation: 'recallRobotDingMessages',
		parameters: (settings) => ({ robotCode: settings.robotCode, openDingIds: '={{ $json.key }}' }),
	},
];

const MESSAGE_TEXT = 'n8n-nodes-dingtalk-recall live check: a test message, recalled in a moment.';

/** The messages a run sends for these settings, in order. */
function plannedSends(settings) {
	return KINDS.filter((kind) => kind.configured(settings)).map((kind) => ({
		...kind,
		case: `send ${kind.label}`,
		requestBody: kind.body(settings, MESSAGE_TEXT),
	}));
}

/** The recall runs, each with what the SPEC promises for it (`expect`). */
function plannedRecalls(settings) {
	const [oneOnOne] = KINDS;
	return [
		...KINDS.filter((kind) => kind.configured(settings)).map((kind) => ({ kind, case: `recall ${kind.label}`, keyFrom: kind.kind, expect: 'recalled' })),
		{ kind: oneOnOne, case: 'recall a key DingTalk never issued', keyFrom: 'neverIssued', expect: 'refused' },
		{ kind: oneOnOne, case: `recall the ${oneOnOne.label} again`, keyFrom: oneOnOne.kind, expect: 'recalledBefore' },
	];
}

/** A node that POSTs one JSON body through n8n's legacy `requestWithAuthentication` with `uri`, as the HTTP Request node does. */
class LiveCheckSender {
	constructor() {
		this.description = {
			displayName: 'Live Check Sender',
			name: 'liveCheckSender',
			group: ['output'],
			version: 1,
			description: 'Sends one DingTalk message as the HTTP Request node does',
			defaults: { name: 'Send' },
			inputs: ['main'],
			outputs: ['main'],
			credentials: [{ name: 'dingTalkApi', required: true }],
			properties: [
				{ displayName: 'URL', name: 'url', type: 'string', default: '' },
				{ displayName: 'Body', name: 'body', type: 'string', default: '{}' },
			],
		};
	}

	async execute() {
		// The options HTTP Request node 4.x builds for a POST with a JSON body (HttpRequestV3.node.ts).
		const requestOptions = {
			headers: {},
			method: 'POST',
			uri: this.getNodeParameter('url', 0),
			gzip: true,
			rejectUnauthorized: true,
			followRedirect: true,
			followAllRedirects: true,
			resolveWithFullResponse: true,
			timeout: 60_000,
			body: JSON.parse(this.getNodeParameter('body', 0)),
			json: true,
		};
		try {
			const response = await this.helpers.requestWithAuthentication.call(this, 'dingTalkApi', requestOptions);
			return [[{ json: { sent: true, answer: response.body } }]];
		} catch {
			// The error carries the request, token included; the proxy's record says what DingTalk answered.
			return [[{ json: { sent: false } }]];
		}
	}
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends, then recalls, through `proxy` (a started RecordingProxy in front of the target).
 * @returns {Promise<{ sent: object[], outcomes: object[], credentialData: object }>}
 */
async function runScenario({ settings, clientId, clientSecret, proxy, neverIssuedKey, waitBeforeRecallMs }) {
	// Loaded here: the engine and the built node are needed only when something is sent.
	const { runNode, runWorkflow, NodeTypes, CredentialsHelper } = require('../support/n8n-harness');
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
	const nodeTypes = new NodeTypes({ 'liveCheck.sender': new LiveCheckSender() });

	const keys = { neverIssued: neverIssuedKey };
	const sent = [];
	for (const send of plannedSends(settings)) {
		proxy.currentCase = send.case;
		const base = send.host === 'api' ? proxy.apiBaseUrl : proxy.oapiBaseUrl;
		const node = {
			id: 'send',
			name: 'Send',
			type: 'liveCheck.sender',
			typeVersion: 1,
			position: [0, 0],
			parameters: { url: `${base}${send.path}`, body: JSON.stringify(send.requestBody) },
			credentials: { dingTalkApi: { id: 'cred-1', name: 'DingTalk test app' } },
		};
		const run = await runWorkflow({ nodes: [node], connections: {}, credentials, startNode: 'Send', nodeTypes });
		const result = run.data.resultData.runData.Send?.[0]?.data?.main?.[0]?.[0]?.json;
		const key = result?.sent ? send.keyOf(result.answer) : undefined;
		if (key !== undefined) keys[send.kind] = key;
		sent.push({ case: send.case, kind: send.kind, key });
	}

	if (waitBeforeRecallMs > 0 && sent.some((message) => message.key !== undefined)) await wait(waitBeforeRecallMs);

	const outcomes = [];
	for (const recall of plannedRecalls(settings)) {
		proxy.currentCase = recall.case;
		const key = keys[recall.keyFrom];
		const outcome = { case: recall.case, operation: recall.kind.operation, idField: idFieldOf(recall.kind.operation), key, expect: recall.expect };
		if (key === undefined) {
			outcomes.push({ ...outcome, skipped: `the ${recall.kind.label} was not sent` });
			continue;
		}
		const first = outcomes.find((earlier) => earlier.key === key);
		if (recall.expect === 'recalledBefore' && first?.items?.[0]?.output !== 'Success') {
			// A second recall proves something only of a message the first one recalled.
			outcomes.push({ ...outcome, skipped: 'the first recall did not succeed' });
			continue;
		}
		const result = await runNode({
			items: [{ key }],
			credentials,
			parameters: { operation: recall.kind.operation, ...recall.kind.parameters(settings), options: {} },
		});
		outcomes.push({
			...outcome,
			stopped: result.error ? String(result.error.message ?? result.error) : undefined,
			items: [...result.success.map((item) => ({ output: 'Success', ...item })), ...result.failed.map((item) => ({ output: 'Failed', ...item }))],
		});
	}
	return { sent, outcomes, credentialData: credentials.dataOf('cred-1') };
}

function idFieldOf(operation) {
	if (operation === 'recallWorkNotification') return 'msgTaskId';
	return operation === 'recallRobotDingMessages' ? 'openDingId' : 'processQueryKey';
}

module.exports = { runScenario, plannedSends, plannedRecalls, LiveCheckSender, MESSAGE_TEXT };
