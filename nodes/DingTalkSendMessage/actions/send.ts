import type { IDataObject, IExecuteFunctions, INodeExecutionData, JsonObject } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import type { ConfigurationAnswer } from '../../../credentials/DingTalkAnswers';
import { codeLabel } from '../../../credentials/DingTalkAnswers';
import { chunk, runWithConcurrency } from '../../DingTalk/helpers/batching';
import { configurationMessage, configurationProblem, explainCode, TEXTS } from '../../DingTalk/texts';
import { SEND_TEXTS } from './texts';
import type { Answer, DingTalkCall, DingTalkClient } from '../../DingTalk/transport';

/** One item's message: what every output item of it shows, where it goes, to whom, and what it says; or why it cannot go. */
export interface SendRequest {
	itemIndex: number;
	/** The output fields: operation, robotCode or agentId, openConversationId. */
	fields: IDataObject;
	/** The robot, chat or agent: a configuration error of one fails only its messages. */
	pool: string;
	/** The people it goes to; none for a group's message (the group is). */
	recipients: string[];
	/** What the call carries besides the recipients (msgKey and msgParam, msg, content and remindType). */
	content: IDataObject;
	/** Bad input: the item sends nothing. */
	problem?: string;
}

/** What DingTalk's answer to a send it carried out says. */
export interface SendReading {
	/** The message's ID, as the matching recall operation reads it. */
	id?: string | number;
	/** Recipients DingTalk did not send to, for good. */
	refused: Array<{ userId: string; code: string; message: string }>;
	/** Recipients DingTalk held back for its limits: sent again, paced, within Retries. */
	flowControlled: string[];
}

/** What sets one of DingTalk's send APIs apart. */
export interface SendApi {
	idField: 'processQueryKey' | 'openDingId' | 'msgTaskId';
	/** Most recipients per call (0 when the call names none: a group's message). */
	mostRecipients: (request: SendRequest, client: DingTalkClient) => number;
	callFor: (request: SendRequest, recipients: string[]) => DingTalkCall;
	read: (body: Record<string, unknown>) => SendReading;
}

/** The output items of one item's message, Success and Failed. */
interface ItemOutputs {
	sent: INodeExecutionData[];
	notSent: INodeExecutionData[];
}

/** A message DingTalk created: its ID, under the name the recall reads, and whom it reached. */
function sentItem(api: SendApi, request: SendRequest, id: string | number, userIds: string[], requestId?: string): INodeExecutionData {
	const json: IDataObject = { ...request.fields, sent: true, [api.idField]: id };
	if (request.recipients.length) json.userIds = userIds;
	if (requestId) json.requestId = requestId;
	return { json, pairedItem: { item: request.itemIndex } };
}

/** Recipients a message did not reach: why, and whether it may be out all the same (`maybeSent`). */
function notSentItem(request: SendRequest, userIds: string[], why: { code: string; message: string; maybeSent?: boolean; requestId?: string }): INodeExecutionData {
	const json: IDataObject = { ...request.fields, sent: false, errorCode: why.code, errorMessage: why.message };
	if (request.recipients.length || request.problem) json.userIds = userIds;
	if (why.maybeSent) json.maybeSent = true;
	if (why.requestId) json.requestId = why.requestId;
	return { json, pairedItem: { item: request.itemIndex } };
}

/** Why a call was not carried out, from its final answer: a lost answer, or DingTalk failing on it, may have sent it. */
function notSentBecause(answer: Answer): { code: string; message: string; maybeSent?: boolean; requestId?: string } {
	const { code, requestId } = answer;
	switch (answer.kind) {
		case 'configuration':
			return { code, message: configurationMessage(answer), requestId };
		case 'cancelled':
			return { code, message: SEND_TEXTS.sendStopped };
		case 'tokenUnavailable':
			return { code, message: answer.message, requestId };
		case 'throttled':
		case 'refused':
			return { code, message: explainCode(code, SEND_TEXTS.notSent(code, answer.message)), requestId };
		case 'failed':
			if (code === 'network') return { code, message: SEND_TEXTS.unconnected };
			return { code, message: `${SEND_TEXTS.notSent(code, answer.message)} ${SEND_TEXTS.maybeSent}`, maybeSent: true, requestId };
		default:
			return { code, message: `${explainCode(code, SEND_TEXTS.notSent(code, answer.message))} ${SEND_TEXTS.maybeSent}`, maybeSent: true, requestId };
	}
}

/**
 * Sends one call's message and those its flow-controlled recipients need again; returns the configuration
 * error that ended it, if one did. A call is repeated only where DingTalk did not carry it out.
 */
async function sendOne(client: DingTalkClient, api: SendApi, request: SendRequest, recipients: string[], out: ItemOutputs): Promise<ConfigurationAnswer | undefined> {
	let pending = recipients;
	for (let flowRepeats = 0; ; flowRepeats++) {
		const answer = await client.call(api.callFor(request, pending), { onlyUnsent: true });
		if (answer.kind !== 'ok') {
			out.notSent.push(notSentItem(request, pending, notSentBecause(answer)));
			return answer.kind === 'configuration' ? answer : undefined;
		}
		const { id, refused, flowControlled } = api.read(answer.body);
		if (id === undefined) {
			out.notSent.push(notSentItem(request, pending, { code: 'invalidResponse', message: SEND_TEXTS.noId, maybeSent: true, requestId: answer.requestId }));
			return undefined;
		}
		const named = refused.filter(({ userId }) => pending.includes(userId));
		const held = flowControlled.filter((userId) => pending.includes(userId));
		const reached = pending.filter((userId) => !held.includes(userId) && !named.some((entry) => entry.userId === userId));
		out.sent.push(sentItem(api, request, id, reached, answer.requestId));
		for (const { userId, code, message } of named) out.notSent.push(notSentItem(request, [userId], { code, message, requestId: answer.requestId }));
		if (!held.length) return undefined;
		if (flowRepeats < client.maxRetries && !client.stopped) await client.waitBeforeRepeat(flowRepeats + 1);
		if (flowRepeats >= client.maxRetries || client.stopped) {
			const why = client.stopped ? { code: 'cancelled', message: SEND_TEXTS.sendStopped } : { code: 'flowControlled', message: SEND_TEXTS.flowControlled };
			out.notSent.push(notSentItem(request, held, why));
			return undefined;
		}
		pending = held;
	}
}

/** Every item on Failed: a setup error before any call, with Continue On Fail (an item of bad input keeps its own problem). */
export function noneSent(requests: readonly SendRequest[], why: { code: string; message: string }): INodeExecutionData[][] {
	return [[], requests.map((request) => notSentItem(request, request.recipients, request.problem ? invalidInput(request) : why))];
}

function invalidInput(request: SendRequest): { code: string; message: string } {
	return { code: 'invalidInput', message: `Item ${request.itemIndex}: ${request.problem}.` };
}

/** The error that stops the run for the whole app: what to fix, and which messages went out before it. */
function appFailure(context: IExecuteFunctions, api: SendApi, answer: ConfigurationAnswer, outputs: ItemOutputs[]): NodeApiError {
	const ids = outputs.flatMap(({ sent }) => sent.map(({ json }) => String(json[api.idField])));
	const { problem, fix = TEXTS.credentialTest } = configurationProblem(answer);
	const sentNote = ids.length ? ` ${SEND_TEXTS.sentBeforeStop(ids.length, ids.slice(0, 50))}` : '';
	return new NodeApiError(context.getNode(), { code: answer.code, message: answer.message } as JsonObject, {
		message: problem,
		description: `${fix} (${codeLabel(answer.code)}${answer.requestId ? `, request ID ${answer.requestId}` : ''})${sentNote}`,
	});
}

/**
 * Sends every item's message, its recipients split into calls of the API's limit, several calls at a time.
 * Every recipient given ends in exactly one output item: a Success item per message DingTalk created, a
 * Failed item per recipient it refused and per call not carried out. Items are never merged.
 */
export async function sendAll(
	context: IExecuteFunctions,
	client: DingTalkClient,
	requests: readonly SendRequest[],
	concurrency: number,
	api: SendApi,
): Promise<INodeExecutionData[][]> {
	// One slot per call (and per item of bad input), in the order of the items: the outputs keep that order.
	const slots: Array<{ request: SendRequest; recipients: string[]; out: ItemOutputs }> = [];
	for (const request of requests) {
		const most = request.problem ? 0 : api.mostRecipients(request, client);
		const parts = most ? chunk(request.recipients, most) : [request.recipients];
		for (const recipients of parts) slots.push({ request, recipients, out: { sent: [], notSent: [] } });
	}
	const calls = slots.filter(({ request, out }) => {
		if (request.problem) out.notSent.push(notSentItem(request, request.recipients, invalidInput(request)));
		return !request.problem;
	});
	/** Robots, chats or agents DingTalk refused as a whole: their messages not yet sent fail with it. */
	const refusedPools = new Map<string, ConfigurationAnswer>();
	let stoppedBy: ConfigurationAnswer | undefined;
	const started = new Set<(typeof slots)[number]>();
	const signal = context.getExecutionCancelSignal?.();
	await runWithConcurrency(
		calls,
		concurrency,
		async (call) => {
			started.add(call);
			const { request, recipients, out } = call;
			const refused = refusedPools.get(request.pool);
			if (refused) return void out.notSent.push(notSentItem(request, recipients, notSentBecause(refused)));
			const end = await sendOne(client, api, request, recipients, out);
			if (end?.scope === 'app') stoppedBy ??= end;
			else if (end) refusedPools.set(request.pool, end);
		},
		() => stoppedBy !== undefined || signal?.aborted === true,
	);
	const outputs = slots.map(({ out }) => out);
	if (stoppedBy && !context.continueOnFail()) throw appFailure(context, api, stoppedBy, outputs);
	const notStarted: Answer = stoppedBy ?? { kind: 'cancelled', code: 'cancelled', message: '' };
	for (const call of calls) if (!started.has(call)) call.out.notSent.push(notSentItem(call.request, call.recipients, notSentBecause(notStarted)));
	return [outputs.flatMap(({ sent }) => sent), outputs.flatMap(({ notSent }) => notSent)];
}
