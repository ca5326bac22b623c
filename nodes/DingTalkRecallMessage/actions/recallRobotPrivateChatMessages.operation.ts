import type { INodeProperties } from 'n8n-workflow';

import type { RobotRecallApi } from './robotRecall';
import { robotKeyParameters, robotParameters, robotRecallOperation } from './robotRecall';

export const OPERATION = 'recallRobotPrivateChatMessages';

export const PRIVATE_CHAT_RECALL_PATH = '/v1.0/robot/privateChatMessages/batchRecall';

/** The read status of a private-chat message: the group query's body and answer (DingTalk's SDKs: PrivateChatQuery). */
export const PRIVATE_CHAT_QUERY_PATH = '/v1.0/robot/privateChatMessages/query';

const api: RobotRecallApi = {
	operation: OPERATION,
	recallPath: PRIVATE_CHAT_RECALL_PATH,
	inConversation: true,
	// Only the send status is needed: one page of readers is enough.
	readStatus: (robotCode, openConversationId, processQueryKey) => ({
		host: 'api',
		path: PRIVATE_CHAT_QUERY_PATH,
		json: { openConversationId, robotCode, processQueryKey, maxResults: 1 },
	}),
};

export const description: INodeProperties[] = robotParameters(api, 'POST /v1.0/robot/privateChatMessages/send');

export const keyParameters = robotKeyParameters(api);

export const recall = robotRecallOperation(api);
