import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { asGiven, CALL_OPTIONS, isProblem, setupError, setUp } from '../../DingTalk/setup';
import type { DingTalkProcess } from '../../DingTalk/transport';
import { collectSendRequests } from './requests';
import type { SendApi } from './send';
import { noneSent, sendAll } from './send';
import type { SendParameters } from './requests';
import * as sendRobotDingMessage from './sendRobotDingMessage.operation';
import * as sendRobotGroupMessage from './sendRobotGroupMessage.operation';
import * as sendRobotOneOnOneMessage from './sendRobotOneOnOneMessage.operation';
import * as sendWorkNotification from './sendWorkNotification.operation';

/** The node's Options: those of its calls; the run reads each default from here. */
export const optionsCollection: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add option',
	default: {},
	options: CALL_OPTIONS,
};

const operations = new Map<string, { parameters: SendParameters; api: SendApi }>(
	[sendRobotOneOnOneMessage, sendRobotGroupMessage, sendRobotDingMessage, sendWorkNotification].map((operation) => [operation.OPERATION, operation]),
);

export async function router(this: IExecuteFunctions, process: DingTalkProcess): Promise<INodeExecutionData[][]> {
	const name = this.getNodeParameter('operation', 0) as string;
	const operation = operations.get(name);
	// Only a workflow saved by a later version of the node names an operation this one does not know.
	if (!operation) throw new NodeOperationError(this.getNode(), `The operation "${name}" is not known to this version of the node`);
	const requests = collectSendRequests(this, this.getInputData(), operation.parameters);
	const setup = await setUp(this, process, optionsCollection);
	if (isProblem(setup) && !this.continueOnFail()) throw setupError(this, setup);
	const outputs = isProblem(setup)
		? // Nothing was sent: every item goes to Failed with the problem.
			noneSent(requests, { code: setup.code, message: `${setup.problem} ${setup.fix}` })
		: await sendAll(this, setup.client, requests, setup.options.number('concurrency', 1, 20), operation.api);
	return asGiven(this.getNode(), outputs);
}
