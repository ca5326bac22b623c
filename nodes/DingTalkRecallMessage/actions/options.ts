import type { INodeProperties } from 'n8n-workflow';

import { CALL_OPTIONS } from '../../DingTalk/setup';

const ROBOT_BATCH_OPERATIONS = ['recallRobotOneOnOneMessages', 'recallRobotGroupMessages', 'recallRobotPrivateChatMessages'];

/** The node's Options; the run reads each default from here. */
export const optionsCollection: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add option',
	default: {},
	options: [
		{
			displayName: 'Batch Size',
			name: 'batchSize',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: 20 },
			default: 20,
			description: 'How many keys to recall per call. DingTalk accepts at most 20.',
			displayOptions: { show: { '/operation': ROBOT_BATCH_OPERATIONS } },
		},
		{
			displayName: 'Check Unclear Outcomes',
			name: 'checkUnclear',
			type: 'boolean',
			default: true,
			description:
				"Whether to ask DingTalk's read status, once, for each message whose recall stayed unclear (a lost answer, no word on the key, a reason DingTalk does not document). A message it shows recalled goes to Success with alreadyRecalled: true.",
			displayOptions: { show: { '/operation': ROBOT_BATCH_OPERATIONS } },
		},
		...CALL_OPTIONS,
	],
};
