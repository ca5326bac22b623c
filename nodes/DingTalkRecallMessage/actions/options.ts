import type { INodeProperties } from 'n8n-workflow';

import { optionsCollection } from '../../DingTalk/setup';

const ROBOT_BATCH_OPERATIONS = ['recallRobotOneOnOneMessages', 'recallRobotGroupMessages', 'recallRobotPrivateChatMessages'];

/** The node's Options: its own, then those of its calls. */
export const recallOptions: INodeProperties = optionsCollection([
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
	]);
