import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { asGiven, isProblem, operationOf, setupError, setUp } from '../../DingTalk/setup';
import type { DingTalkProcess } from '../../DingTalk/transport';
import { notRecalled } from '../helpers/results';
import { recallOptions } from './options';
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
	const operation = operationOf(this, operations);
	const requests = collectKeyRequests(this, this.getInputData(), operation.keyParameters);
	const setup = await setUp(this, process, recallOptions);
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
