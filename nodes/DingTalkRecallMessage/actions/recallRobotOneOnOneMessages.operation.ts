import type { INodeProperties } from 'n8n-workflow';

import type { RobotRecallApi } from './robotRecall';
import { robotKeyParameters, robotParameters, robotRecallOperation } from './robotRecall';

export const OPERATION = 'recallRobotOneOnOneMessages';

export const BATCH_RECALL_PATH = '/v1.0/robot/otoMessages/batchRecall';

/** Note `oTo` here and `oto` in the recall path: DingTalk spells them so. */
export const READ_STATUS_PATH = '/v1.0/robot/oToMessages/readStatus';

const api: RobotRecallApi = {
	operation: OPERATION,
	recallPath: BATCH_RECALL_PATH,
	inConversation: false,
	readStatus: (robotCode, _openConversationId, processQueryKey) => ({
		host: 'api',
		method: 'GET',
		path: READ_STATUS_PATH,
		qs: { robotCode, processQueryKey },
	}),
};

export const description: INodeProperties[] = robotParameters(api, 'POST /v1.0/robot/oToMessages/batchSend');

export const keyParameters = robotKeyParameters(api);

export const recall = robotRecallOperation(api);
