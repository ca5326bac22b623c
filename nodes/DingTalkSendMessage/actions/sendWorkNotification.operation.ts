import type { INodeProperties } from 'n8n-workflow';

import { parseAgentId } from '../../DingTalk/helpers/inputs';
import { userIdsField } from './fields';
import { readMessage } from './message';
import type { SendParameters } from './requests';
import type { SendApi } from './send';

export const OPERATION = 'sendWorkNotification';

export const ASYNC_SEND_PATH = '/topapi/message/corpconversation/asyncsend_v2';

export const description: INodeProperties[] = [
	{
		displayName: 'Agent ID',
		name: 'agentId',
		type: 'string',
		required: true,
		default: '',
		placeholder: '836390886',
		description: 'The AgentId of the app that sends the notification (developer console → your app → Basic Info)',
		displayOptions: { show: { operation: [OPERATION] } },
	},
	userIdsField(OPERATION, '5,000 people (1,000 for a third-party app)'),
];

export const parameters: SendParameters = {
	operation: OPERATION,
	destination: [{ name: 'agentId', parse: parseAgentId, display: Number }],
	toPeople: true,
	content: (read) => {
		const message = readMessage(read, false);
		return 'problem' in message ? message : { msg: message.msg };
	},
};

export const api: SendApi = {
	idField: 'msgTaskId',
	// DingTalk's limit is lower for a third-party enterprise app.
	mostRecipients: (_request, client) => (client.credentials.appType === 'thirdParty' ? 1000 : 5000),
	// The task_id is the msgTaskId the recall takes; whom DingTalk reached only its getsendresult tells.
	callFor: ({ fields, content }, userIds) => ({
		host: 'oapi',
		path: ASYNC_SEND_PATH,
		json: { agent_id: fields.agentId, userid_list: userIds.join(','), msg: content.msg },
		resultFields: [],
	}),
	read: (body) => ({ id: typeof body.task_id === 'number' || typeof body.task_id === 'string' ? body.task_id : undefined, refused: [], flowControlled: [] }),
};
