import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import type { AnswerKind, TokenFailureKind } from './DingTalkAnswers';
import { errorChain } from './DingTalkAnswers';

/**
 * What passes between the credential, which gets DingTalk's access tokens, and the node's client, which
 * decides when to renew one and what a failed token request means for the run. Errors carry a typed
 * marker, not a message to match: n8n wraps them (NodeApiError) on their way to the node.
 */

/** DingTalk's tokens live 7200 s; renew 5 minutes early (halfway for a shorter-lived token). */
const DEFAULT_TOKEN_LIFETIME_S = 7200;
const RENEWAL_MARGIN_MS = 5 * 60 * 1000;

/** When to stop using a token DingTalk issued at `now`, valid for `expireIn` seconds. */
export function renewAfter(expireIn: unknown, now: number): number {
	const lifetimeMs = (typeof expireIn === 'number' && expireIn > 0 ? expireIn : DEFAULT_TOKEN_LIFETIME_S) * 1000;
	return now + lifetimeMs - Math.min(RENEWAL_MARGIN_MS, lifetimeMs / 2);
}

/** The stored token is missing, or due for renewal at `now`. */
export function tokenDue(credentials: ICredentialDataDecryptedObject, now: number): boolean {
	if (!credentials.accessToken) return true;
	const renewAt = Number(credentials.renewAt ?? 0);
	return renewAt > 0 && now >= renewAt;
}


const TOKEN_FAILURE = 'dingTalkTokenFailure';

/** Thrown by the credential's preAuthentication. Its message is for people and never holds a secret. */
export class DingTalkTokenError extends Error {
	readonly [TOKEN_FAILURE]: TokenFailureKind;

	constructor(
		kind: TokenFailureKind,
		/** DingTalk's code (`invalidClientIdOrSecret`, `system.busy` …) or the node's own (`timeout`, `network`). */
		readonly code: string,
		message: string,
		/** How the token API's answer sorts (throttled, failed, lost …): the caller repeats it as it would any call's. */
		readonly answerKind: AnswerKind,
		/** Seconds DingTalk asked to wait (an IP ban), where it said so. */
		readonly waitSeconds?: number,
	) {
		super(message);
		this[TOKEN_FAILURE] = kind;
	}
}

/** The token failure somewhere in an error n8n's helper wrapped, if there is one. */
export function tokenFailureIn(error: unknown): DingTalkTokenError | undefined {
	return errorChain(error).find((level) => typeof level[TOKEN_FAILURE] === 'string') as DingTalkTokenError | undefined;
}

/**
 * Thrown by `authenticate`, before any request goes out, when n8n's legacy request helper (the HTTP Request
 * node's) is about to send a token that is due: that helper renews the token after any failure and repeats
 * the request, so the call is served with a fresh token. (DingTalk's oapi host answers an expired token with
 * HTTP 200, after which nothing would renew it.) The node's own calls renew due tokens before they go.
 */
export class DingTalkTokenDueError extends Error {
	constructor() {
		super('The stored DingTalk access token is due for renewal');
	}
}
