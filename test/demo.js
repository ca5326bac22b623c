'use strict';
/**
 * `npm run demo`: the node doing its job with no DingTalk account. It starts the DingTalk-compatible
 * server on 127.0.0.1, sends some messages through its send APIs, then runs workflows through n8n's
 * real engine with the DingTalk Recall Message node and prints what came out of Success and Failed.
 */
const { DingTalkServer, PATHS } = require('./support/dingtalk-server');
const { runNode, CredentialsHelper } = require('./support/n8n-harness');

async function post(url, body, headers = {}) {
	const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
	return await response.json();
}

function printOutputs(title, result, idField, poolFields) {
	console.log(`\n${title}`);
	if (result.error) {
		console.log(`  The node stopped: ${result.error.message}`);
		return;
	}
	const rows = [
		...result.success.map((item) => ['Success', item]),
		...result.failed.map((item) => ['Failed', item]),
	].map(([output, { json, pairedItem }]) => ({
		output,
		'input item': pairedItem.item,
		[idField]: String(json[idField]).length > 22 ? `${String(json[idField]).slice(0, 20)}…` : json[idField],
		...Object.fromEntries(poolFields.map((field) => [field, json[field]])),
		alreadyRecalled: json.alreadyRecalled ? 'yes' : '',
		mayBeRecalled: json.mayBeRecalled ? 'yes' : '',
		errorCode: json.errorCode ?? '',
		errorMessage: json.errorMessage ?? '',
	}));
	console.table(rows);
	console.log(`  Success: ${result.success.length} item(s), Failed: ${result.failed.length} item(s)`);
}

async function main() {
	const server = await new DingTalkServer({
		robots: ['dingAlertBot', 'dingHrBot'],
		agents: ['836390886'],
		conversations: {
			'cidGroupOps+A1/xyz==': { kind: 'group', robots: ['dingAlertBot'] },
			'cidGroupDev+B2/xyz==': { kind: 'group', robots: ['dingAlertBot'], stopped: true }, // the robot was switched off there
		},
	}).start();
	try {
		console.log(`DingTalk-compatible server: api ${server.apiBaseUrl}, oapi ${server.oapiBaseUrl}`);

		// The send side: an incident flow sent alerts and stored the IDs DingTalk returned.
		const { accessToken } = await post(`${server.apiBaseUrl}${PATHS.accessToken}`, { appKey: 'ding-app-key', appSecret: 'ding-app-secret' });
		const sendRobot = async (robotCode) =>
			(await post(`${server.apiBaseUrl}${PATHS.batchSend}`, { robotCode, userIds: ['manager01'], msgKey: 'sampleText', msgParam: '{"content":"DB latency alert"}' }, { 'x-acs-dingtalk-access-token': accessToken })).processQueryKey;
		const alerts = [];
		for (let i = 0; i < 6; i++) alerts.push(await sendRobot('dingAlertBot'));
		const hrMessage = await sendRobot('dingHrBot');
		const sendNotification = async () =>
			(await post(`${server.oapiBaseUrl}${PATHS.workNotificationSend}?access_token=${accessToken}`, { agent_id: 836390886, userid_list: 'manager01', msg: { msgtype: 'text', text: { content: 'Disk full on db-1' } } })).task_id;
		const notifications = [await sendNotification(), await sendNotification()];
		const opsGroup = 'cidGroupOps+A1/xyz==';
		const sendGroup = async () =>
			(await post(`${server.apiBaseUrl}${PATHS.groupSend}`, { robotCode: 'dingAlertBot', openConversationId: opsGroup, msgKey: 'sampleText', msgParam: '{"content":"DB latency alert"}' }, { 'x-acs-dingtalk-access-token': accessToken })).processQueryKey;
		const groupAlerts = [await sendGroup(), await sendGroup(), await sendGroup()];
		server.robotMessages.get(alerts[5]).recalled = true; // someone recalled this one by hand already
		console.log(`Sent ${alerts.length} alerts from dingAlertBot to a person and ${groupAlerts.length} to the group ${opsGroup}, 1 message from dingHrBot and ${notifications.length} work notifications.`);

		const credentials = new CredentialsHelper();
		credentials.add('cred-1', server.credentialData());
		// DingTalk's token API fails once when the node first asks (HTTP 500): the node repeats the request.
		server.injectFault(PATHS.accessToken, '500', 1);

		// The alert was a false alarm: take the messages back.
		const robotItems = [
			{ incident: 'INC-1', processQueryKey: alerts[0] },
			{ incident: 'INC-2', processQueryKey: [alerts[1], alerts[2]] },
			{ incident: 'INC-3', processQueryKey: `${alerts[3]}, ${alerts[4]}` },
			{ incident: 'INC-4', processQueryKey: alerts[5] }, // already recalled
			{ incident: 'INC-5', processQueryKey: 'a-key-DingTalk-never-issued' }, // unknown
			{ incident: 'INC-6', processQueryKey: hrMessage }, // another robot's message
			{ incident: 'INC-7', processQueryKey: '' }, // no key at all
		];
		const robotRun = await runNode({
			items: robotItems,
			credentials,
			parameters: { operation: 'recallRobotOneOnOneMessages', robotCode: 'dingAlertBot', processQueryKeys: '={{ $json.processQueryKey }}', options: {} },
		});
		printOutputs('Recall Robot One-on-One Messages (robotCode dingAlertBot)', robotRun, 'processQueryKey', ['robotCode']);

		// Group alerts: one item per group, its keys; the conversation's ID comes with the keys.
		const groupRun = await runNode({
			items: [
				{ group: opsGroup, keys: groupAlerts },
				{ group: 'cidGroupDev+B2/xyz==', keys: ['a-key-in-a-group-whose-robot-was-stopped'] },
			],
			credentials,
			parameters: {
				operation: 'recallRobotGroupMessages',
				robotCode: 'dingAlertBot',
				openConversationId: '={{ $json.group }}',
				processQueryKeys: '={{ $json.keys }}',
				options: {},
			},
		});
		printOutputs('Recall Robot Group Messages (robotCode dingAlertBot)', groupRun, 'processQueryKey', ['openConversationId']);

		// The first notification's recall happens, but its answer is lost on the way back; the repeat is refused
		// (400002: DingTalk no longer knows it). No status API exists for work notifications: Failed, mayBeRecalled.
		server.injectFault(PATHS.workNotificationRecall, 'lostAnswer', 1);
		const workRun = await runNode({
			items: [{ taskId: notifications[0] }, { taskId: notifications[1] }, { taskId: 123456 }, { taskId: 'not-a-number' }],
			credentials,
			parameters: { operation: 'recallWorkNotification', agentId: '836390886', msgTaskId: '={{ $json.taskId }}', options: { concurrency: 1 } },
		});
		printOutputs('Recall Work Notification (agentId 836390886)', workRun, 'msgTaskId', ['agentId']);

		// A DING (urgent reminder) sent for the false alarm: recall it, one call per DING.
		const sendDing = async () =>
			(await post(`${server.apiBaseUrl}${PATHS.dingSend}`, { robotCode: 'dingAlertBot', remindType: 1, receiverUserIdList: ['manager01'], content: 'DB latency alert' }, { 'x-acs-dingtalk-access-token': accessToken })).openDingId;
		const dingRun = await runNode({
			items: [{ openDingId: [await sendDing(), await sendDing()] }, { openDingId: 'a-DING-never-sent' }],
			credentials,
			parameters: { operation: 'recallRobotDingMessages', robotCode: 'dingAlertBot', openDingIds: '={{ $json.openDingId }}', options: {} },
		});
		printOutputs('Recall Robot DING Messages (robotCode dingAlertBot)', dingRun, 'openDingId', ['robotCode']);

		const recallCalls = [PATHS.batchRecall, PATHS.groupRecall, PATHS.workNotificationRecall, PATHS.dingRecall].reduce((sum, path) => sum + server.callsTo(path).length, 0);
		const statusQueries = server.callsTo(PATHS.readStatus).length + server.callsTo(PATHS.groupQuery).length;
		console.log(
			`\nDingTalk was called ${recallCalls} time(s) to recall, ${statusQueries} time(s) for a read status (the message INC-4 that DingTalk would not recall again: its status shows it is gone, so it is on Success marked alreadyRecalled) and ${server.callsTo(PATHS.accessToken).length} time(s) for a token (one for the sender; for the node, a 500 then a token, kept in the credential). Work notification ${notifications[0]} is on Failed with mayBeRecalled: its recall happened, but the answer was lost and no status API can confirm it.`,
		);
	} finally {
		await server.stop();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
