import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

import type { DingTalkProcess } from '../DingTalk/transport';
import { thisProcess } from '../DingTalk/transport';
import { DINGTALK_NODE } from '../DingTalk/setup';
import { messageParameters } from './actions/message';
import { router, sendOptions } from './actions/router';
import * as sendRobotDingMessage from './actions/sendRobotDingMessage.operation';
import * as sendRobotGroupMessage from './actions/sendRobotGroupMessage.operation';
import * as sendRobotOneOnOneMessage from './actions/sendRobotOneOnOneMessage.operation';
import * as sendWorkNotification from './actions/sendWorkNotification.operation';

export class DingTalkSendMessage implements INodeType {
	description: INodeTypeDescription = {
		...DINGTALK_NODE,
		icon: { light: 'file:dingtalk.svg', dark: 'file:dingtalk.dark.svg' },
		usableAsTool: true,
		displayName: 'DingTalk Send Message',
		name: 'dingTalkSendMessage',
		subtitle: '={{ {"sendRobotOneOnOneMessage": "Send robot one-on-one message", "sendRobotGroupMessage": "Send robot group message", "sendRobotDingMessage": "Send robot DING message", "sendWorkNotification": "Send work notification"}[$parameter["operation"]] }}',
		description:
			'Send DingTalk robot messages (one-on-one, group), robot DINGs and work notifications; every Success item carries the ID the DingTalk Recall Message node takes them back with',
		defaults: { name: 'DingTalk Send Message' },
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Send Robot DING Message',
						value: 'sendRobotDingMessage',
						description: 'Send a DING (urgent in-app, SMS or phone reminder) from a robot',
						action: 'Send a DING from a robot',
					},
					{
						name: 'Send Robot Group Message',
						value: 'sendRobotGroupMessage',
						description: 'Send a robot message to a group chat',
						action: 'Send a robot message to a group chat',
					},
					{
						name: 'Send Robot One-on-One Message',
						value: 'sendRobotOneOnOneMessage',
						description: 'Send a robot message to people, one-on-one, 20 per call',
						action: 'Send a robot message to people one on one',
					},
					{
						name: 'Send Work Notification',
						value: 'sendWorkNotification',
						description: 'Send a work notification from an app',
						action: 'Send a work notification',
					},
				],
				default: 'sendRobotOneOnOneMessage',
			},
			...sendRobotOneOnOneMessage.description,
			...sendRobotGroupMessage.description,
			...sendRobotDingMessage.description,
			...sendWorkNotification.description,
			...messageParameters([sendRobotOneOnOneMessage.OPERATION, sendRobotGroupMessage.OPERATION], [sendWorkNotification.OPERATION]),
			sendOptions,
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
