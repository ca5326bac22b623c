import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { asGiven, isProblem, operationOf, optionsCollection, setupError, setUp } from '../../DingTalk/setup';
import type { DingTalkProcess } from '../../DingTalk/transport';
import { collectSendRequests } from './requests';
import type { SendApi } from './send';
import { noneSent, sendAll } from './send';
import type { SendParameters } from './requests';
import * as sendRobotDingMessage from './sendRobotDingMessage.operation';
import * as sendRobotGroupMessage from './sendRobotGroupMessage.operation';
import * as sendRobotOneOnOneMessage from './sendRobotOneOnOneMessage.operation';
import * as sendWorkNotification from './sendWorkNotification.operation';

/** The node's Options: those of its calls. */
export const sendOptions = optionsCollection([]);

const operations = new Map<string, { parameters: SendParameters; api: SendApi }>(
	[sendRobotOneOnOneMessage, sendRobotGroupMessage, sendRobotDingMessage, sendWorkNotification].map((operation) => [operation.OPERATION, operation]),
);

export async function router(this: IExecuteFunctions, process: DingTalkProcess): Promise<INodeExecutionData[][]> {
	const operation = operationOf(this, operations);
	const requests = collectSendRequests(this, this.getInputData(), operation.parameters);
	const setup = await setUp(this, process, sendOptions);
	if (isProblem(setup) && !this.continueOnFail()) throw setupError(this, setup);
	const outputs = isProblem(setup)
		? // Nothing was sent: every item goes to Failed with the problem.
			noneSent(requests, { code: setup.code, message: `${setup.problem} ${setup.fix}` })
		: await sendAll(this, setup.client, requests, setup.options.number('concurrency', 1, 20), operation.api);
	return asGiven(this.getNode(), outputs);
}
