import type { INodeProperties } from 'n8n-workflow';

import { parseRobotCode } from '../../DingTalk/helpers/inputs';
import { robotCodeField, userIdsField } from './fields';
import type { SendParameters } from './requests';
import type { SendApi } from './send';

export const OPERATION = 'sendRobotDingMessage';

export const DING_SEND_PATH = '/v1.0/robot/ding/send';

/** DingTalk's remindType for each way a DING reaches people. */
const REMIND_TYPES: Record<string, number> = { app: 1, sms: 2, call: 3 };

const displayOptions = { show: { operation: [OPERATION] } };

export const description: INodeProperties[] = [
	robotCodeField(OPERATION, 'DINGs'),
	userIdsField(OPERATION, '200 people in-app and 20 by SMS or phone'),
	{
		displayName: 'Remind Type',
		name: 'remindType',
		type: 'options',
		options: [
			{ name: 'In-App', value: 'app', description: 'A DING in the DingTalk app' },
			{ name: 'Phone Call', value: 'call', description: 'DingTalk calls the person and reads the content' },
			{ name: 'SMS', value: 'sms', description: 'A text message to the person’s phone' },
		],
		default: 'app',
		displayOptions,
	},
	{
		displayName: 'Content',
		name: 'content',
		type: 'string',
		typeOptions: { rows: 3 },
		required: true,
		default: '',
		placeholder: 'e.g. Disk full on db-01: please look now',
		hint: 'DINGs need the Professional or Exclusive edition and the permission Premium.Ding.Write',
		displayOptions,
	},
];

export const parameters: SendParameters = {
	operation: OPERATION,
	destination: [{ name: 'robotCode', parse: parseRobotCode }],
	toPeople: true,
	content: (read) => {
		const remindType = REMIND_TYPES[String(read('remindType'))];
		const content = read('content');
		if (!remindType) return { problem: 'remindType must be app, sms or call' };
		if (typeof content !== 'string' || !content.trim()) return { problem: 'content is empty: give what the DING says' };
		return { remindType, content };
	},
};

export const api: SendApi = {
	idField: 'openDingId',
	mostRecipients: ({ content }) => (content.remindType === REMIND_TYPES.app ? 200 : 20),
	callFor: ({ fields, content }, receiverUserIdList) => ({
		host: 'api',
		path: DING_SEND_PATH,
		json: { robotCode: fields.robotCode, remindType: content.remindType, receiverUserIdList, content: content.content },
		resultFields: ['openDingId'],
	}),
	read: (body) => {
		const failedList = body.failedList !== null && typeof body.failedList === 'object' ? (body.failedList as Record<string, unknown>) : {};
		return {
			id: typeof body.openDingId === 'string' ? body.openDingId : undefined,
			refused: Object.entries(failedList).map(([userId, reason]) => ({
				userId,
				code: String(reason || 'failed'),
				message: `DingTalk did not DING this person; its reason: ${String(reason || 'none given')}.`,
			})),
			flowControlled: [],
		};
	},
};
