import { robotRecallOperation } from './robotRecall';

export const OPERATION = 'recallRobotGroupMessages';

export const { description, keyParameters, recall } = robotRecallOperation({
	operation: OPERATION,
	recallPath: '/v1.0/robot/groupMessages/recall',
	readStatusPath: '/v1.0/robot/groupMessages/query',
	inConversation: true,
	sentBy: 'POST /v1.0/robot/groupMessages/send',
});
