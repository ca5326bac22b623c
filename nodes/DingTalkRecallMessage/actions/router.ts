import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { asGiven, isProblem, setupError, setUp } from '../../DingTalk/setup';
import type { DingTalkProcess } from '../../DingTalk/transport';
import { notRecalled } from '../helpers/results';
import { optionsCollection } from './options';
import * as recallRobotDingMessages from './recallRobotDingMessages.operation';
import * as recallRobotGroupMessages from './recallRobotGroupMessages.operation';
import * as recallRobotOneOnOneMessages from './recallRobotOneOnOneMessages.operation';
import * as recallRobotPrivateChatMessages from './recallRobotPrivateChatMessages.operation';
import * as recallWorkNotification from './recallWorkNotification.operation';
import type { KeyParameters, Recall } from './recall';
import { allFailed, collectKeyRequests } from './recall';

/** An operation: how it reads the items' keys, and how it recalls them. */
interface Operation {
	keyParameters: KeyParameters;
	recall: Recall;
}

const operations = new Map<string, Operation>(
	[recallRobotOneOnOneMessages, recallRobotGroupMessages, recallRobotPrivateChatMessages, recallWorkNotification, recallRobotDingMessages].map(
		(operation) => [operation.OPERATION, operation],
	),
);

export async function router(this: IExecuteFunctions, process: DingTalkProcess): Promise<INodeExecutionData[][]> {
	const name = this.getNodeParameter('operation', 0) as string;
	const operation = operations.get(name);
	// Only a workflow saved by a later version of the node names an operation this one does not know.
	if (!operation) throw new NodeOperationError(this.getNode(), `The operation "${name}" is not known to this version of the node`);
	const requests = collectKeyRequests(this, this.getInputData(), operation.keyParameters);
	const setup = await setUp(this, process, optionsCollection);
	if (isProblem(setup) && !this.continueOnFail()) throw setupError(this, setup);
	const outputs = isProblem(setup)
		? // Nothing was sent: every key goes to Failed with the problem, none passes through to Success.
			allFailed(requests, notRecalled(setup.code, `${setup.problem} ${setup.fix}`))
		: await operation.recall.call(this, requests, setup.client, {
				batchSize: setup.options.number('batchSize', 1, 20),
				concurrency: setup.options.number('concurrency', 1, 20),
				checkUnclear: setup.options.switch('checkUnclear'),
			});
	return asGiven(this.getNode(), outputs);
}
