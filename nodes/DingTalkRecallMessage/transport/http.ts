import type { ICredentialDataDecryptedObject, IExecuteFunctions, IHttpRequestOptions, IN8nHttpFullResponse } from 'n8n-workflow';

import type { Answer } from '../../../credentials/DingTalkAnswers';
import { classifyAnswer, classifyRequestFailure } from '../../../credentials/DingTalkAnswers';
import type { DingTalkBaseUrls } from '../../../credentials/DingTalkHosts';
import { untilStopped } from '../../../credentials/DingTalkClock';
import { tokenFailureIn } from '../../../credentials/DingTalkTokenRenewal';

export const CREDENTIAL_TYPE = 'dingTalkApi';

/** The credential as n8n hands it to its HTTP helper (`credentialsDecrypted`). */
export interface StoredCredential {
	id: string;
	name: string;
	type: string;
	data: ICredentialDataDecryptedObject;
}

export interface DingTalkCall {
	host: 'api' | 'oapi';
	path: string;
	/** POST unless said otherwise (read status of a one-on-one message is a GET). */
	method?: 'GET' | 'POST';
	/** Query parameters; n8n's helper URL-encodes them (processQueryKeys are base64 with `+`, `/`, `=`). */
	qs?: Record<string, string>;
	/** A JSON body (`api` host). */
	json?: Record<string, unknown>;
	/** A form-urlencoded body (`oapi` host), as DingTalk's own example sends it. */
	form?: Record<string, string>;
	/** The fields DingTalk's answer of this API carries (`successResult`, `sendStatus`, `openDingId` …); none on the oapi host. */
	resultFields: readonly string[];
}

export function callUrl(baseUrls: DingTalkBaseUrls, call: DingTalkCall): string {
	return `${baseUrls[call.host]}${call.path}`;
}

/** The execution was stopped: before the call went (nothing happened), or on its way (its answer is lost). */
export function stoppedAnswer(onItsWay: boolean): Answer {
	return onItsWay
		? { kind: 'lost', code: 'cancelled', message: 'the execution was stopped while the call was on its way' }
		: { kind: 'cancelled', code: 'cancelled', message: 'the execution was stopped before the call went' };
}

/**
 * Sends one call, once, through n8n's `httpRequestWithAuthentication` (so n8n's proxy settings and
 * credential handling apply; n8n aborts it when the execution is stopped) and sorts the answer. Given a
 * credential with no token, n8n runs the credential's preAuthentication first and stores the new token.
 */
export async function sendOnce(
	context: IExecuteFunctions,
	baseUrls: DingTalkBaseUrls,
	call: DingTalkCall,
	credential: StoredCredential,
	timeoutMs: number,
): Promise<Answer> {
	const request: IHttpRequestOptions = {
		method: call.method ?? 'POST',
		url: callUrl(baseUrls, call),
		qs: call.qs,
		timeout: timeoutMs,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};
	if (call.form) {
		request.headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
		request.body = new URLSearchParams(call.form).toString();
	} else {
		request.json = true;
		if (call.json) request.body = call.json;
	}

	const signal = context.getExecutionCancelSignal?.();
	if (signal?.aborted) return stoppedAnswer(false);
	// With no token, n8n first asks DingTalk's token API for one: until it has it, the call has not gone.
	const stillGettingToken = () => !credential.data.accessToken;

	const sent = context.helpers.httpRequestWithAuthentication
		.call(context, CREDENTIAL_TYPE, request, { credentialsDecrypted: credential })
		.then(
			(response) => ({ response: response as IN8nHttpFullResponse }),
			(error: unknown) => ({ error }),
		);
	// n8n aborts the call itself when the execution stops, but not a token request: that one is not waited for.
	const outcome = await untilStopped(sent, signal);
	if (outcome === 'stopped') return stoppedAnswer(!stillGettingToken());

	if ('response' in outcome) {
		const { statusCode, body } = outcome.response;
		return classifyAnswer({ host: call.host, resultFields: call.resultFields }, statusCode, body);
	}
	const tokenFailure = tokenFailureIn(outcome.error);
	if (signal?.aborted) return stoppedAnswer(!tokenFailure && !stillGettingToken());
	if (!tokenFailure) return classifyRequestFailure(outcome.error);
	return {
		kind: 'tokenUnavailable',
		code: tokenFailure.code,
		message: tokenFailure.message,
		tokenFailure: tokenFailure.dingTalkTokenFailure,
		tokenAnswerKind: tokenFailure.answerKind,
		waitSeconds: tokenFailure.waitSeconds,
	};
}
