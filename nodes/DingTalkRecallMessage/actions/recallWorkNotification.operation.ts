import type { INodeProperties } from 'n8n-workflow';

import { parseAgentId, parseMsgTaskIds } from '../../DingTalk/helpers/inputs';
import type { KeyParameters } from './recall';
import { recallEach } from './recall';

export const OPERATION = 'recallWorkNotification';

export const RECALL_PATH = '/topapi/message/corpconversation/recall';

const showForOperation = { show: { operation: [OPERATION] } };

export const description: INodeProperties[] = [
	{
		displayName: 'Agent ID',
		name: 'agentId',
		type: 'string',
		required: true,
		default: '={{ $json.agentId }}',
		placeholder: '836390886',
		description:
			"The AgentId of the app that sent the notification (developer console → your app → Basic Info); by default each item's agentId, as the DingTalk Send Message node gives it",
		displayOptions: showForOperation,
	},
	{
		displayName: 'Message Task ID',
		name: 'msgTaskId',
		type: 'string',
		required: true,
		default: '={{ $json.msgTaskId }}',
		placeholder: 'e.g. 256271667526',
		description:
			"The ID DingTalk gave the notification when the app sent it: the msgTaskId of the DingTalk Send Message node's Success item, or the task_id of the asyncsend_v2 answer (a number). One ID, a comma-separated list, or an array of IDs.",
		hint: "By default each item's msgTaskId field. Only notifications sent in the last 24 hours can be recalled",
		displayOptions: showForOperation,
	},
];

/** DingTalk's IDs are numbers: show them as numbers where they fit. */
function idForOutput(id: string): string | number {
	const asNumber = Number(id);
	return /^\d+$/.test(id) && Number.isSafeInteger(asNumber) ? asNumber : id;
}

export const keyParameters: KeyParameters = {
	operation: OPERATION,
	pool: [{ name: 'agentId', parse: parseAgentId, display: idForOutput }],
	valueParameter: 'msgTaskId',
	valueField: 'msgTaskId',
	parseValues: parseMsgTaskIds,
	emptyProblem: 'msgTaskId is empty: give the task_id of the notification to recall',
	display: idForOutput,
};

// DingTalk recalls one notification per call; `errcode: 0` is its recall.
export const recall = recallEach({
	callFor: ([agentId], taskId) => ({ host: 'oapi', path: RECALL_PATH, form: { agent_id: agentId, msg_task_id: taskId }, resultFields: [] }),
});
