import type { INodeProperties } from 'n8n-workflow';

import type { RobotRecallApi } from './robotRecall';
import { robotKeyParameters, robotParameters, robotRecallOperation } from './robotRecall';

export const OPERATION = 'recallRobotPrivateChatMessages';

export const PRIVATE_CHAT_RECALL_PATH = '/v1.0/robot/privateChatMessages/batchRecall';

/** DingTalk has no read status for private-chat messages: an unclear outcome stays on Failed. */
const api: RobotRecallApi = {
	operation: OPERATION,
	recallPath: PRIVATE_CHAT_RECALL_PATH,
	inConversation: true,
};

export const description: INodeProperties[] = robotParameters(api, 'POST /v1.0/robot/privateChatMessages/send');

export const keyParameters = robotKeyParameters(api);

export const recall = robotRecallOperation(api);
