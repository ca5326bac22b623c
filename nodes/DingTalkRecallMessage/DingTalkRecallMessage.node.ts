import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import * as recallRobotDingMessages from './actions/recallRobotDingMessages.operation';
import * as recallRobotGroupMessages from './actions/recallRobotGroupMessages.operation';
import * as recallRobotOneOnOneMessages from './actions/recallRobotOneOnOneMessages.operation';
import * as recallRobotPrivateChatMessages from './actions/recallRobotPrivateChatMessages.operation';
import * as recallWorkNotification from './actions/recallWorkNotification.operation';
import { router } from './actions/router';

export class DingTalkRecallMessage implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'DingTalk Recall Message',
		name: 'dingTalkRecallMessage',
		icon: { light: 'file:dingtalk.svg', dark: 'file:dingtalk.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{ {"recallWorkNotification": "Recall work notification", "recallRobotOneOnOneMessages": "Recall robot one-on-one messages", "recallRobotGroupMessages": "Recall robot group messages", "recallRobotPrivateChatMessages": "Recall robot private chat messages", "recallRobotDingMessages": "Recall robot DING messages"}[$parameter["operation"]] }}',
		description:
			'Recall DingTalk messages that were sent: robot messages (one-on-one, group, private chat) by the processQueryKey that sending returned, robot DING messages by their openDingId, work notifications by their task_id',
		defaults: { name: 'DingTalk Recall Message' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Success', 'Failed'],
		credentials: [{ name: 'dingTalkApi', required: true }],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Recall Robot DING Messages',
						value: 'recallRobotDingMessages',
						description: 'Recall DING messages (urgent in-app, SMS or phone reminders) a robot sent, one per call',
						action: 'Recall DING messages a robot sent',
					},
					{
						name: 'Recall Robot Group Messages',
						value: 'recallRobotGroupMessages',
						description: 'Recall messages a robot sent to group chats, 20 per call',
						action: 'Recall robot messages sent to group chats',
					},
					{
						name: 'Recall Robot One-on-One Messages',
						value: 'recallRobotOneOnOneMessages',
						description: 'Recall messages a robot sent in one-on-one chats, 20 per call',
						action: 'Recall robot messages sent to individual users',
					},
					{
						name: 'Recall Robot Private Chat Messages',
						value: 'recallRobotPrivateChatMessages',
						description: 'Recall messages a robot sent in a private chat between two people, 20 per call',
						action: 'Recall robot messages sent in private chats between two people',
					},
					{
						name: 'Recall Work Notification',
						value: 'recallWorkNotification',
						description: 'Recall a work notification an app sent',
						action: 'Recall a work notification',
					},
				],
				default: 'recallRobotOneOnOneMessages',
			},
			...recallRobotOneOnOneMessages.description,
			...recallRobotGroupMessages.description,
			...recallRobotPrivateChatMessages.description,
			...recallWorkNotification.description,
			...recallRobotDingMessages.description,
			{
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
						displayOptions: {
							show: {
								'/operation': ['recallRobotOneOnOneMessages', 'recallRobotGroupMessages', 'recallRobotPrivateChatMessages'],
							},
						},
					},
					{
						displayName: 'Check Unclear Outcomes',
						name: 'checkUnclear',
						type: 'boolean',
						default: true,
						description:
							"Whether to ask DingTalk's read status, once, for each message whose recall stayed unclear (a lost answer, no word on the key, a reason DingTalk does not document). A message it shows recalled goes to Success with alreadyRecalled: true.",
						displayOptions: {
							show: { '/operation': ['recallRobotOneOnOneMessages', 'recallRobotGroupMessages'] },
						},
					},
					{
						displayName: 'Parallel Calls',
						name: 'concurrency',
						type: 'number',
						typeOptions: { minValue: 1, maxValue: 20 },
						default: 5,
						description:
							'How many calls may be in flight at once. When DingTalk throttles, the node slows down on its own.',
					},
					{
						displayName: 'Retries',
						name: 'maxRetries',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 10 },
						default: 3,
						description:
							"How often to repeat a call after a server error, a timeout, a dropped connection or an answer that is not DingTalk's",
					},
					{
						displayName: 'Retry Delay (Ms)',
						name: 'retryDelay',
						type: 'number',
						typeOptions: { minValue: 0, maxValue: 8000 },
						default: 500,
						description:
							'How long to wait before the first repeat after a fault: between half and all of it (spread so that repeats do not come all at once); each further repeat waits about twice as long, at most 8 s',
					},
					{
						displayName: 'Timeout (Ms)',
						name: 'timeout',
						type: 'number',
						typeOptions: { minValue: 1 },
						default: 10000,
						description: 'How long to wait for DingTalk to answer one call',
					},
				],
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
