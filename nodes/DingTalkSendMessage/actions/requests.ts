import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { ItemParameter, ParsedList } from '../../DingTalk/helpers/inputs';
import { parameterReader, parseList, validateKey } from '../../DingTalk/helpers/inputs';
import type { SendRequest } from './send';

/** How an operation reads an item: where its message goes, whether to people, and what the message says (or why it cannot be sent). */
export interface SendParameters {
	operation: string;
	/** Where its message goes: robot, chat, agent. */
	destination: ItemParameter[];
	/** The item names its recipients (`userIds`); a group's message does not. */
	toPeople: boolean;
	content: (read: (name: string) => unknown) => IDataObject | { problem: string };
}

/** `userIds`: the people a message goes to, each once; one userId, an array of them, or a comma-separated string. */
function parseUserIds(value: unknown): ParsedList {
	const parsed = parseList(value, 'userIds', validateKey('a userId'), true);
	return { ...parsed, values: [...new Set(parsed.values)] };
}

/** Reads every input item into one message each; bad input becomes a request with a problem, never an exception. */
export function collectSendRequests(context: IExecuteFunctions, items: INodeExecutionData[], parameters: SendParameters): SendRequest[] {
	const readDestination = parameters.destination.map((part) => ({ ...part, read: parameterReader(context, items, part.name) }));
	const readUserIds = parameterReader(context, items, 'userIds');
	return items.map((_item, itemIndex) => {
		const fields: IDataObject = { operation: parameters.operation };
		let problem: string | undefined;
		let recipients: string[] = [];
		let content: IDataObject = {};
		try {
			const values = readDestination.map(({ name, parse, display = String, read }) => {
				const { value, problem: wrong } = parse(read(itemIndex));
				fields[name] = value === undefined ? '' : display(value);
				problem ??= wrong;
				return value;
			});
			if (parameters.toPeople) {
				const { values: userIds, problems } = parseUserIds(readUserIds(itemIndex));
				recipients = userIds;
				problem ??= problems[0]?.problem ?? (userIds.length ? undefined : 'userIds is empty: give at least one userId to send to');
			}
			const message = parameters.content((name) => context.getNodeParameter(name, itemIndex));
			if ('problem' in message) problem ??= String(message.problem);
			else content = message;
			return { itemIndex, fields, pool: JSON.stringify(values), recipients, content, problem };
		} catch (error) {
			return { itemIndex, fields, pool: '', recipients, content, problem: `its parameters could not be read (${(error as Error).message})` };
		}
	});
}
