import type { INodeProperties } from 'n8n-workflow';

import { parseOpenConversationId, parseRobotCode } from '../../DingTalk/helpers/inputs';
import { robotCodeField } from './fields';
import { robotMessageContent } from './message';
import type { SendParameters } from './requests';
import type { SendApi } from './send';

export const OPERATION = 'sendRobotGroupMessage';

export const GROUP_SEND_PATH = '/v1.0/robot/groupMessages/send';

export const description: INodeProperties[] = [
	robotCodeField(OPERATION, 'messages'),
	{
		displayName: 'Open Conversation ID',
		name: 'openConversationId',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. cidXXXXXXXXXXXXXXXX==',
		description: 'The openConversationId of the group chat to send to; the robot must be in it (an expression works: items may name different groups)',
		displayOptions: { show: { operation: [OPERATION] } },
	},
];

export const parameters: SendParameters = {
	operation: OPERATION,
	destination: [
		{ name: 'robotCode', parse: parseRobotCode },
		{ name: 'openConversationId', parse: parseOpenConversationId },
	],
	toPeople: false,
	content: robotMessageContent,
};

export const api: SendApi = {
	idField: 'processQueryKey',
	// The group is the recipient: one call per item.
	mostRecipients: () => 0,
	callFor: ({ fields, content }) => ({
		host: 'api',
		path: GROUP_SEND_PATH,
		json: { robotCode: fields.robotCode, openConversationId: fields.openConversationId, msgKey: content.msgKey, msgParam: JSON.stringify(content.msgParam) },
		resultFields: ['processQueryKey'],
	}),
	read: (body) => ({ id: typeof body.processQueryKey === 'string' ? body.processQueryKey : undefined, refused: [], flowControlled: [] }),
};
