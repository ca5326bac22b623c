import type { ICredentialDataDecryptedObject, IExecuteFunctions, IHttpRequestOptions, IN8nHttpFullResponse } from 'n8n-workflow';

import type { Answer, ApiShape } from '../../../credentials/DingTalkAnswers';
import { classifyAnswer, classifyRequestFailure, redactSecrets } from '../../../credentials/DingTalkAnswers';
import { untilStopped } from '../../../credentials/DingTalkClock';
import type { DingTalkBaseUrls } from '../../../credentials/DingTalkHosts';
import type { DingTalkTokenError } from '../../../credentials/DingTalkTokenRenewal';
import { isTokenReady, secretsOf, TOKEN_ONLY_HEADER, tokenFailureIn } from '../../../credentials/DingTalkTokenRenewal';

export const CREDENTIAL_TYPE = 'dingTalkApi';

/** One call: where it goes, what it carries, and how DingTalk's answer of its API reads (`ApiShape`). */
export interface DingTalkCall extends ApiShape {
	path: string;
	/** POST unless said otherwise (read status of a one-on-one message is a GET). */
	method?: 'GET' | 'POST';
	/** Query parameters; n8n's helper URL-encodes them (processQueryKeys are base64 with `+`, `/`, `=`). */
	qs?: Record<string, string>;
	/** A JSON body (`api` host). */
	json?: Record<string, unknown>;
	/** A form-urlencoded body (`oapi` host), as DingTalk's own example sends it. */
	form?: Record<string, string>;
}

export function callUrl(baseUrls: DingTalkBaseUrls, call: DingTalkCall): string {
	return `${baseUrls[call.host]}${call.path}`;
}

/** n8n's helper takes the credential data the run holds (with the process's token) instead of reading it again. */
function withCredential(data: ICredentialDataDecryptedObject) {
	return { credentialsDecrypted: { id: '', name: '', type: CREDENTIAL_TYPE, data: { ...data } } };
}

/** The execution was stopped: before the call went (nothing happened), or on its way (its answer is lost). */
export function stoppedAnswer(onItsWay: boolean): Answer {
	return onItsWay
		? { kind: 'lost', code: 'cancelled', message: 'the execution was stopped while the call was on its way' }
		: { kind: 'cancelled', code: 'cancelled', message: 'the execution was stopped before the call went' };
}

/** One call, once, through n8n's `httpRequestWithAuthentication` (its proxy, its credential handling, its stop), sorted, secrets masked. */
export async function sendOnce(
	context: IExecuteFunctions,
	baseUrls: DingTalkBaseUrls,
	call: DingTalkCall,
	data: ICredentialDataDecryptedObject,
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
	const sent = context.helpers.httpRequestWithAuthentication
		.call(context, CREDENTIAL_TYPE, request, withCredential(data))
		.then(
			(response) => ({ response: response as IN8nHttpFullResponse }),
			(error: unknown) => ({ error }),
		);
	const outcome = await untilStopped(sent, signal);
	if (outcome === 'stopped') return stoppedAnswer(true);

	if ('response' in outcome) {
		const { statusCode, body } = outcome.response;
		return redactSecrets(classifyAnswer(call, statusCode, body), secretsOf(data));
	}
	// A token failure here: n8n renewed the token after an HTTP 401, and could not.
	const tokenFailure = tokenFailureIn(outcome.error);
	if (signal?.aborted) return stoppedAnswer(!tokenFailure);
	return tokenFailure ? tokenUnavailable(tokenFailure) : classifyRequestFailure(outcome.error);
}

function tokenUnavailable({ message, tokenAnswer }: Pick<DingTalkTokenError, 'message' | 'tokenAnswer'>): Answer {
	return { kind: 'tokenUnavailable', code: tokenAnswer.code, message, tokenAnswer };
}

/** Has n8n get a new token and store it, sending nothing else (see TOKEN_ONLY_HEADER); how it failed, if it did. */
export async function requestNewToken(context: IExecuteFunctions, url: string, data: ICredentialDataDecryptedObject): Promise<Answer | undefined> {
	try {
		const request: IHttpRequestOptions = { method: 'POST', url, headers: { [TOKEN_ONLY_HEADER]: '1' } };
		await context.helpers.httpRequestWithAuthentication.call(context, CREDENTIAL_TYPE, request, withCredential({ ...data, accessToken: '' }));
	} catch (error) {
		if (isTokenReady(error)) return undefined;
		const tokenFailure = tokenFailureIn(error);
		return tokenFailure ? tokenUnavailable(tokenFailure) : classifyRequestFailure(error);
	}
	// n8n sent the request after all: it has no say about the token, which is read from storage next.
	return undefined;
}
