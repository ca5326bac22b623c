'use strict';
/**
 * `npm run demo`: the nodes doing their job with no DingTalk account. It starts the DingTalk-compatible
 * server on 127.0.0.1, then runs workflows through n8n's real engine: the DingTalk Send Message node sends
 * alerts, the DingTalk Recall Message node takes them back, and it prints what came out of Success and Failed.
 */
const { DingTalkServer, PATHS } = require('./support/dingtalk-server');
const { runNode, CredentialsHelper } = require('./support/n8n-harness');

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
		...('userIds' in json ? { userIds: json.userIds.join(',') } : {}),
		...('recalled' in json ? { alreadyRecalled: json.alreadyRecalled ? 'yes' : '', mayBeRecalled: json.mayBeRecalled ? 'yes' : '' } : { maybeSent: json.maybeSent ? 'yes' : '' }),
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

		const credentials = new CredentialsHelper();
		credentials.add('cred-1', server.credentialData());
		// DingTalk's token API fails once when the node first asks (HTTP 500): the node repeats the request.
		server.injectFault(PATHS.accessToken, '500', 1);
		const sendWith = async (operation, items, parameters) =>
			await runNode({ send: true, items, credentials, parameters: { operation, messageType: 'text', text: 'DB latency alert', ...parameters, options: {} } });
		const ids = (result, field) => result.success.map(({ json }) => json[field]);

		// The send side: an incident flow sends alerts with the Send node; each Success item carries the ID to recall.
		const sentAlerts = await sendWith('sendRobotOneOnOneMessage', Array.from({ length: 6 }, () => ({ to: ['manager01', 'dev02'] })), { robotCode: 'dingAlertBot', userIds: '={{ $json.to }}' });
		printOutputs('Send Robot One-on-One Message (robotCode dingAlertBot): one message per item', sentAlerts, 'processQueryKey', ['robotCode']);
		const alerts = ids(sentAlerts, 'processQueryKey');
		const [hrMessage] = ids(await sendWith('sendRobotOneOnOneMessage', [{}], { robotCode: 'dingHrBot', userIds: 'manager01' }), 'processQueryKey');
		const notifications = ids(await sendWith('sendWorkNotification', [{}, {}], { agentId: 836390886, userIds: 'manager01', text: 'Disk full on db-1' }), 'msgTaskId');
		const opsGroup = 'cidGroupOps+A1/xyz==';
		const sentToGroups = await sendWith('sendRobotGroupMessage', [{ group: opsGroup }, { group: opsGroup }, { group: opsGroup }, { group: 'cidGroupDev+B2/xyz==' }], { robotCode: 'dingAlertBot', openConversationId: '={{ $json.group }}' });
		printOutputs('Send Robot Group Message (robotCode dingAlertBot)', sentToGroups, 'processQueryKey', ['openConversationId']);
		server.robotMessages.get(alerts[5]).recalled = true; // someone recalled this one by hand already
		console.log(`Sent ${alerts.length} alerts from dingAlertBot to two people each and ${sentToGroups.success.length} to the group ${opsGroup}, 1 message from dingHrBot and ${notifications.length} work notifications.`);

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

		// The group alerts: the Send node's Success items, straight into the Recall node with nothing filled in.
		const groupRun = await runNode({ items: sentToGroups.success.map(({ json }) => json), credentials, parameters: { operation: 'recallRobotGroupMessages', options: {} } });
		printOutputs('Recall Robot Group Messages: the Send node’s Success items, every field by default', groupRun, 'processQueryKey', ['openConversationId']);

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
		const dings = ids(await sendWith('sendRobotDingMessage', [{}, {}], { robotCode: 'dingAlertBot', userIds: 'manager01', remindType: 'app', content: 'DB latency alert' }), 'openDingId');
		const dingRun = await runNode({
			items: [{ openDingId: dings }, { openDingId: 'a-DING-never-sent' }],
			credentials,
			parameters: { operation: 'recallRobotDingMessages', robotCode: 'dingAlertBot', openDingIds: '={{ $json.openDingId }}', options: {} },
		});
		printOutputs('Recall Robot DING Messages (robotCode dingAlertBot)', dingRun, 'openDingId', ['robotCode']);

		const recallCalls = [PATHS.batchRecall, PATHS.groupRecall, PATHS.workNotificationRecall, PATHS.dingRecall].reduce((sum, path) => sum + server.callsTo(path).length, 0);
		const statusQueries = server.callsTo(PATHS.readStatus).length + server.callsTo(PATHS.groupQuery).length;
		console.log(
			`\nDingTalk was called ${recallCalls} time(s) to recall, ${statusQueries} time(s) for a read status (the message INC-4 that DingTalk would not recall again: its status shows it is gone, so it is on Success marked alreadyRecalled) and ${server.callsTo(PATHS.accessToken).length} time(s) for a token (a 500, then a token, kept in the credential and shared by both nodes). Work notification ${notifications[0]} is on Failed with mayBeRecalled: its recall happened, but the answer was lost and no status API can confirm it.`,
		);
	} finally {
		await server.stop();
	}
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
