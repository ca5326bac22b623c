import type { IDataObject, INodeProperties } from 'n8n-workflow';

/** The message of an item, read from its parameters: DingTalk's template and what fills it, or why there is none. */
export type Message = { msgKey: string; msgParam: IDataObject; msg: IDataObject } | { problem: string };

/** A message's parameters, shown for `operations` (robot messages have a JSON template and its parameters, work notifications a JSON msg). */
export function messageParameters(robotOperations: string[], workOperations: string[]): INodeProperties[] {
	const operations = [...robotOperations, ...workOperations];
	return [
		{
			displayName: 'Message Type',
			name: 'messageType',
			type: 'options',
			options: [
				{ name: 'JSON', value: 'json', description: 'Any message DingTalk has a template for, written as JSON' },
				{ name: 'Markdown', value: 'markdown', description: 'A title and a text with Markdown' },
				{ name: 'Text', value: 'text', description: 'Plain text' },
			],
			default: 'text',
			displayOptions: { show: { operation: operations } },
		},
		{
			displayName: 'Title',
			name: 'title',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'e.g. Disk full on db-01',
			description: 'What the notification shows before the message is opened',
			displayOptions: { show: { operation: operations, messageType: ['markdown'] } },
		},
		{
			displayName: 'Text',
			name: 'text',
			type: 'string',
			typeOptions: { rows: 4 },
			required: true,
			default: '',
			placeholder: 'e.g. Disk full on db-01: 98% used',
			displayOptions: { show: { operation: operations, messageType: ['text', 'markdown'] } },
		},
		{
			displayName: 'Message Template (msgKey)',
			name: 'msgKey',
			type: 'string',
			required: true,
			default: 'sampleActionCard',
			description: "DingTalk's template for robot messages: sampleText, sampleMarkdown, sampleLink, sampleActionCard, sampleImageMsg …",
			displayOptions: { show: { operation: robotOperations, messageType: ['json'] } },
		},
		{
			displayName: 'Template Parameters (msgParam)',
			name: 'msgParam',
			type: 'json',
			required: true,
			default: '{\n  "title": "Disk full on db-01",\n  "text": "98% used",\n  "singleTitle": "Open the runbook",\n  "singleURL": "https://example.com/runbook"\n}',
			description: 'What fills the template, as a JSON object; the node sends it as the JSON string DingTalk expects',
			displayOptions: { show: { operation: robotOperations, messageType: ['json'] } },
		},
		{
			displayName: 'Notification Message',
			name: 'msg',
			type: 'json',
			required: true,
			default: '{\n  "msgtype": "link",\n  "link": {\n    "title": "Disk full on db-01",\n    "text": "98% used",\n    "messageUrl": "https://example.com/incident",\n    "picUrl": "@lALOAAAAAAAAAAA"\n  }\n}',
			description: "A work notification's msg as DingTalk takes it: msgtype and its content, as a JSON object",
			displayOptions: { show: { operation: workOperations, messageType: ['json'] } },
		},
	];
}

/** A JSON object given as an object or as JSON text. */
function asObject(value: unknown): IDataObject | undefined {
	if (typeof value === 'string') {
		try {
			return asObject(JSON.parse(value));
		} catch {
			return undefined;
		}
	}
	return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as IDataObject) : undefined;
}

const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : '');

/**
 * An item's message for a robot (`msgKey` and `msgParam`) and a work notification (`msg`): both are built,
 * the operation takes its own. `read` gives a parameter's value for the item.
 */
export function readMessage(read: (name: string) => unknown, robot: boolean): Message {
	const type = read('messageType');
	if (type === 'json') {
		const name = robot ? 'msgParam' : 'msg';
		const object = asObject(read(name));
		if (!object) return { problem: `${name} is not a JSON object` };
		const msgKey = robot ? text(read('msgKey')).trim() : '';
		if (robot && !msgKey) return { problem: 'msgKey is empty: give the message template, such as sampleText' };
		return { msgKey, msgParam: object, msg: object };
	}
	const body = text(read('text'));
	if (!body.trim()) return { problem: 'text is empty: give the message to send' };
	if (type !== 'markdown') return { msgKey: 'sampleText', msgParam: { content: body }, msg: { msgtype: 'text', text: { content: body } } };
	const title = text(read('title'));
	if (!title.trim()) return { problem: 'title is empty: a Markdown message needs a title' };
	return { msgKey: 'sampleMarkdown', msgParam: { title, text: body }, msg: { msgtype: 'markdown', markdown: { title, text: body } } };
}

/** A robot message's content: DingTalk's template (msgKey) and what fills it (msgParam). */
export function robotMessageContent(read: (name: string) => unknown): IDataObject | { problem: string } {
	const message = readMessage(read, true);
	return 'problem' in message ? message : { msgKey: message.msgKey, msgParam: message.msgParam };
}
