import { robotRecallOperation } from './robotRecall';

export const OPERATION = 'recallRobotPrivateChatMessages';

/** The private chat's read status takes the group query's body and gives its answer (DingTalk's SDKs: PrivateChatQuery). */
export const { description, keyParameters, recall } = robotRecallOperation({
	operation: OPERATION,
	recallPath: '/v1.0/robot/privateChatMessages/batchRecall',
	readStatusPath: '/v1.0/robot/privateChatMessages/query',
	inConversation: true,
	sentBy: 'POST /v1.0/robot/privateChatMessages/send',
});
