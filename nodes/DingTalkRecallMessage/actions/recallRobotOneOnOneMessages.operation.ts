import { robotRecallOperation } from './robotRecall';

export const OPERATION = 'recallRobotOneOnOneMessages';

/** Note `oTo` in the read status path and `oto` in the recall path: DingTalk spells them so. */
export const { description, keyParameters, recall } = robotRecallOperation({
	operation: OPERATION,
	recallPath: '/v1.0/robot/otoMessages/batchRecall',
	readStatusPath: '/v1.0/robot/oToMessages/readStatus',
	inConversation: false,
	sentBy: 'POST /v1.0/robot/oToMessages/batchSend',
});
