import type { INodeProperties } from 'n8n-workflow';

import type { RobotRecallApi } from './robotRecall';
import { robotParameters, robotRecallOperation } from './robotRecall';

export const OPERATION = 'recallRobotPrivateChatMessages';

export const PRIVATE_CHAT_RECALL_PATH = '/v1.0/robot/privateChatMessages/batchRecall';

/** DingTalk has no read status for private-chat messages: an unclear outcome stays on Failed. */
const api: RobotRecallApi = {
	operation: OPERATION,
	recallPath: PRIVATE_CHAT_RECALL_PATH,
	inConversation: true,
};

export const description: INodeProperties[] = robotParameters(api, {
	sentBy: 'POST /v1.0/robot/privateChatMessages/send',
	keysHint: 'Keys of all input items that share a Robot Code and an Open Conversation ID are recalled together, 20 per call',
});

export const execute = robotRecallOperation(api);
