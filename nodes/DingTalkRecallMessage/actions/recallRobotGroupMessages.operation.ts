import type { INodeProperties } from 'n8n-workflow';

import type { RobotRecallApi } from './robotRecall';
import { robotKeyParameters, robotParameters, robotRecallOperation } from './robotRecall';

export const OPERATION = 'recallRobotGroupMessages';

export const GROUP_RECALL_PATH = '/v1.0/robot/groupMessages/recall';

export const GROUP_QUERY_PATH = '/v1.0/robot/groupMessages/query';

const api: RobotRecallApi = {
	operation: OPERATION,
	recallPath: GROUP_RECALL_PATH,
	inConversation: true,
	// Only the send status is needed: one page of readers is enough.
	readStatus: (robotCode, openConversationId, processQueryKey) => ({
		host: 'api',
		path: GROUP_QUERY_PATH,
		json: { openConversationId, robotCode, processQueryKey, maxResults: 1 },
	}),
};

export const description: INodeProperties[] = robotParameters(api, 'POST /v1.0/robot/groupMessages/send');

export const keyParameters = robotKeyParameters(api);

export const recall = robotRecallOperation(api);
