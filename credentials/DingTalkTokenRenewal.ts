import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import type { Answer } from './DingTalkAnswers';
import { errorChain } from './DingTalkAnswers';

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

/** How a token request ended, as far as n8n 1.x keeps it: it drops the cause of an error it wraps, but keeps its description. */
const TOKEN_DESCRIPTION = /^DingTalk's token API answered: (\w+) (\S+)$/;

/** No token could be had: the message is for people (n8n's credential test shows it; a `code` field it would show instead). */
export class DingTalkTokenError extends Error {
	readonly description: string;

	constructor(
		message: string,
		readonly tokenAnswer: Answer,
	) {
		super(message);
		this.description = `DingTalk's token API answered: ${tokenAnswer.kind} ${tokenAnswer.code}`;
	}
}

/** The token failure in an error n8n's helper wrapped: found by its fields (not `instanceof`: n8n may load the credential apart). */
export function tokenFailureIn(error: unknown): Pick<DingTalkTokenError, 'message' | 'tokenAnswer'> | undefined {
	const chain = errorChain(error);
	const whole = chain.find((level) => typeof (level.tokenAnswer as Answer | undefined)?.kind === 'string');
	if (whole) return whole as unknown as DingTalkTokenError;
	// n8n 1.x: only the message and the description are left.
	const described = chain.find((level) => TOKEN_DESCRIPTION.test(String(level.description)));
	if (!described) return undefined;
	const [, kind, code] = TOKEN_DESCRIPTION.exec(String(described.description))!;
	const message = String(described.message);
	const passing = kind === 'throttled' || kind === 'failed' || kind === 'lost';
	const tokenAnswer: Answer = passing ? ({ kind, code, message, perSecond: false } as Answer) : { kind: 'configuration', scope: 'app', code, message };
	return { message, tokenAnswer };
}

/** The credential's secrets (and the token), which nothing the package says may contain. */
export function secretsOf(credentials: ICredentialDataDecryptedObject): string[] {
	return ['clientSecret', 'suiteSecret', 'suiteTicket', 'accessToken']
		.map((name) => credentials[name])
		.filter((value): value is string => typeof value === 'string' && value.length >= 4);
}

/** Asks for a token only: n8n runs preAuthentication and stores the token, then `authenticate` stops the request. */
export const TOKEN_ONLY_HEADER = 'x-dingtalk-token-only';

/** Thrown by `authenticate` for a token-only request: n8n has the token, nothing is to be sent. */
export class DingTalkTokenReady extends Error {
	readonly dingTalkTokenReady = true;

	constructor() {
		super('The DingTalk access token is renewed');
	}
}

/** A token-only request ended as it should, somewhere in an error n8n's helper wrapped. */
export function isTokenReady(error: unknown): boolean {
	return errorChain(error).some((level) => level.dingTalkTokenReady === true);
}

/** A due token refused to the HTTP Request node's helper, which renews after any failure (the oapi host answers an expired token with a 200). */
export class DingTalkTokenDueError extends Error {
	constructor() {
		super('The stored DingTalk access token is due for renewal');
	}
}
