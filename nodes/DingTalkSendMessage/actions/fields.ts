import type { INodeProperties } from 'n8n-workflow';

/** Where a robot's message comes from: the robot (`sendsWhat`: what it sends), shown for `operation`. */
export function robotCodeField(operation: string, sendsWhat: string): INodeProperties {
	return {
		displayName: 'Robot Code',
		name: 'robotCode',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'dingxxxxxxxxxxxxxxxx',
		description: `The code of the robot that sends the ${sendsWhat} (developer console → your app → Robot → RobotCode). Only that robot can recall them later.`,
		displayOptions: { show: { operation: [operation] } },
	};
}

/** The people a message goes to, shown for `operation`; `most` is how many one call takes (more are split into several messages). */
export function userIdsField(operation: string, most: string): INodeProperties {
	return {
		displayName: 'User IDs',
		name: 'userIds',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. manager01, 0156213125-1238',
		description: "The userIds of the people to send to (admin console → Contacts → the person → UserID): one, a comma-separated list, or an array",
		hint: `Each item is its own message; DingTalk takes ${most} per call, so more become several messages, each with its own ID`,
		displayOptions: { show: { operation: [operation] } },
	};
}
