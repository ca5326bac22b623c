import type { INodeProperties } from 'n8n-workflow';

import { parseRobotCode } from '../../DingTalk/helpers/inputs';
import { SEND_TEXTS } from './texts';
import { robotCodeField, userIdsField } from './fields';
import { robotMessageContent } from './message';
import type { SendParameters } from './requests';
import type { SendApi } from './send';

export const OPERATION = 'sendRobotOneOnOneMessage';

/** Note `oTo` here and `oto` in the recall path: DingTalk spells them so. */
export const BATCH_SEND_PATH = '/v1.0/robot/oToMessages/batchSend';

export const description: INodeProperties[] = [robotCodeField(OPERATION, 'messages'), userIdsField(OPERATION, '20 people')];

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

export const parameters: SendParameters = {
	operation: OPERATION,
	destination: [{ name: 'robotCode', parse: parseRobotCode }],
	toPeople: true,
	content: robotMessageContent,
};

export const api: SendApi = {
	idField: 'processQueryKey',
	mostRecipients: () => 20,
	callFor: ({ fields, content }, userIds) => ({
		host: 'api',
		path: BATCH_SEND_PATH,
		// msgParam travels as a JSON string.
		json: { robotCode: fields.robotCode, userIds, msgKey: content.msgKey, msgParam: JSON.stringify(content.msgParam) },
		resultFields: ['processQueryKey'],
	}),
	// One message for the whole call: the people it names did not get it.
	read: (body) => ({
		id: typeof body.processQueryKey === 'string' ? body.processQueryKey : undefined,
		refused: [
			...list(body.invalidStaffIdList).map((userId) => ({ userId, code: 'invalidStaffId', message: SEND_TEXTS.invalidStaffId })),
			...list(body.filteredStaffIdList).map((userId) => ({ userId, code: 'filtered', message: SEND_TEXTS.filtered })),
		],
		flowControlled: list(body.flowControlledStaffIdList),
	}),
};
