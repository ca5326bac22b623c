import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

import * as recallRobotDingMessages from './actions/recallRobotDingMessages.operation';
import * as recallRobotGroupMessages from './actions/recallRobotGroupMessages.operation';
import * as recallRobotOneOnOneMessages from './actions/recallRobotOneOnOneMessages.operation';
import * as recallRobotPrivateChatMessages from './actions/recallRobotPrivateChatMessages.operation';
import * as recallWorkNotification from './actions/recallWorkNotification.operation';
import { recallOptions } from './actions/options';
import { router } from './actions/router';
import type { DingTalkProcess } from '../DingTalk/transport';
import { thisProcess } from '../DingTalk/transport';
import { DINGTALK_NODE } from '../DingTalk/setup';

export class DingTalkRecallMessage implements INodeType {
	description: INodeTypeDescription = {
		...DINGTALK_NODE,
		icon: { light: 'file:dingtalk.svg', dark: 'file:dingtalk.dark.svg' },
		usableAsTool: true,
		displayName: 'DingTalk Recall Message',
		name: 'dingTalkRecallMessage',
		subtitle: '={{ {"recallWorkNotification": "Recall work notification", "recallRobotOneOnOneMessages": "Recall robot one-on-one messages", "recallRobotGroupMessages": "Recall robot group messages", "recallRobotPrivateChatMessages": "Recall robot private chat messages", "recallRobotDingMessages": "Recall robot DING messages"}[$parameter["operation"]] }}',
		description:
			'Recall DingTalk messages that were sent: robot messages (one-on-one, group, private chat) by the processQueryKey that sending returned, robot DING messages by their openDingId, work notifications by their task_id',
		defaults: { name: 'DingTalk Recall Message' },
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
			recallOptions,
		],
	};

	execute: (this: IExecuteFunctions) => Promise<INodeExecutionData[][]>;

	/** `process` is what the executions of this n8n process share: its clock, tokens and pacers (tests give a simulated one). */
	constructor(process: DingTalkProcess = thisProcess) {
		this.execute = async function (this: IExecuteFunctions) {
			return await router.call(this, process);
		};
	}
}
