/** DingTalk's answers and the node's own fault codes, sorted into what the node should do next. */
import { errorChain } from '../../../credentials/DingTalkTokenRenewal';
import { configurationHint } from '../texts';

export type AnswerKind =
	/** The call worked; `body` is DingTalk's JSON. */
	| 'ok'
	/** The token is invalid or expired: renew it once and repeat the call. */
	| 'tokenRejected'
	/** Throttled or banned for a while: wait, slow down and repeat. */
	| 'throttled'
	/** A passing fault (5xx, system busy, timeout, dropped connection, a body that is not JSON): repeat a bounded number of times. */
	| 'transient'
	/** The app, its permissions or the node's settings are wrong: stop the run and tell the user what to fix. */
	| 'configuration'
	/** DingTalk refused this call for a reason about its content (unknown key, expired message …). */
	| 'refused'
	/** The user stopped the execution: nothing more is sent, nothing is learned from this call. */
	| 'cancelled';

export interface Answer {
	kind: AnswerKind;
	/** DingTalk's code (`invalid.processQueryKey`, `400002` …) or the node's own (`timeout`, `network`, `invalidResponse`). */
	code: string;
	message: string;
	requestId?: string;
	body?: Record<string, unknown>;
	/** Seconds DingTalk asked us to wait, where it said so. */
	waitSeconds?: number;
	/**
	 * The call may have reached DingTalk, but its answer was lost (a timeout, a dropped connection, a body
	 * that is not DingTalk's) — in this attempt or an earlier one: DingTalk may have done what it asked.
	 */
	lost?: boolean;
	/**
	 * Nothing reached DingTalk: the token could not be had (the token session has repeated its request
	 * already), or the execution stopped before the call went. Never worth another repeat.
	 */
	notSent?: boolean;
	/** No connection could be made to DingTalk's token API: the address may be wrong, if it lasts. */
	unreachable?: boolean;
}

const TOKEN_ERRCODES = new Set([40000, 40001, 40014, 41001, 42001]);
const THROTTLE_ERRCODES = new Set([90018, 90002]);

/**
 * Fields that make a 2xx body a real answer of one of the APIs the node calls. DingTalk also answers
 * HTTP 200 with only `{code, message, requestid}` (recorded: `system.busy`): that is an error answer.
 */
const RESULT_FIELDS = ['successResult', 'failedResult', 'sendStatus', 'processQueryKey', 'accessToken'];

/**
 * Codes with which DingTalk refuses one key for a reason of its own: final, never worth a repeat or a
 * read-status check. Any other reason a `failedResult` gives leaves the key's fate unclear.
 */
const KEY_CODES = new Set([
	'invalid.processQueryKey',
	'robot.processQueryKey.expired',
	'processQueryKey.expireTime',
	'not.allowed.robotCode',
	'invalidParameter.processQueryKey.missing',
]);

export function isKeyCode(code: string): boolean {
	return KEY_CODES.has(code);
}

/** DingTalk refused the call for carrying too many keys: smaller calls go. */
export function isOverMaxCode(code: string): boolean {
	return /overMax/i.test(code);
}

/** Codes with which DingTalk refuses a whole group or private chat: that pool's keys fail, the others go on. */
const CONVERSATION_CODES = new Set(['invalid.openConversationId', 'miss.openConversationId', 'bot.stopped']);

export function isConversationCode(code: string): boolean {
	return CONVERSATION_CODES.has(code);
}

/**
 * A code or `failedResult` reason that says DingTalk failed internally — `system.error`, `SYSTEM_ERROR`,
 * "system error", `InternalError` … in any spelling or case: a passing fault, worth a repeat.
 */
export function isInternalFailure(reason: string): boolean {
	const word = reason.toLowerCase().replace(/[^a-z]/g, '');
	return /^(system|server|internal|service|unknown)(error|exception|fault|unavailable)$/.test(word) || word === 'serviceunavailable';
}

/** DingTalk's per-second limits: `Forbidden.AccessDenied.Qps…` on the api host, errcode 90018 on the oapi host. */
export function isPerSecondLimit(code: string): boolean {
	return /^Forbidden\.AccessDenied\.Qps/.test(code) || code === '90018';
}

/** Throttling and "busy", in any spelling: wait, then repeat. */
function isThrottleCode(code: string): boolean {
	return /^Forbidden\.AccessDenied\.(Qps|Qpm)/.test(code) || /^(system)?[._-]?busy$/i.test(code);
}

function asObject(body: unknown): Record<string, unknown> | undefined {
	if (typeof body === 'string') {
		const text = body.trim();
		if (!text.startsWith('{')) return undefined;
		try {
			return asObject(JSON.parse(text));
		} catch {
			return undefined;
		}
	}
	return body !== null && typeof body === 'object' && !Array.isArray(body)
		? (body as Record<string, unknown>)
		: undefined;
}

function text(value: unknown): string | undefined {
	return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** A body that is not DingTalk's JSON: an HTML ban page, an empty body, a proxy's error page, the IP-ban JSON. */
function classifyForeignBody(statusCode: number, body: Record<string, unknown> | undefined): Answer {
	if (body && Number(body.status) === 1111) {
		const wait = Number(body.wait);
		return {
			kind: 'throttled',
			code: 'ipBanned',
			message: 'DingTalk has temporarily banned this IP address for sending too many calls.',
			waitSeconds: Number.isFinite(wait) && wait > 0 ? wait : undefined,
		};
	}
	return {
		kind: 'transient',
		code: 'invalidResponse',
		message: `DingTalk answered HTTP ${statusCode} with a body that is not DingTalk's JSON.`,
		lost: true,
	};
}

/**
 * An `ok` answer that lacks the field its API always returns (a proxy's `{}`, an error in another shape) is
 * not DingTalk's answer: a passing fault, and the call may have done its work.
 */
export function withAnswerField(answer: Answer, field: string, statusCode: number): Answer {
	if (answer.kind !== 'ok' || answer.body?.[field] !== undefined) return answer;
	return { ...classifyForeignBody(statusCode, undefined), requestId: answer.requestId };
}

/** New-style API (`api` host): HTTP status plus `{code, message, requestid}`, also with a 2xx status. */
export function classifyApiAnswer(statusCode: number, rawBody: unknown): Answer {
	const body = asObject(rawBody);
	const requestId = text(body?.requestid) ?? text(body?.requestId);
	const code = text(body?.code);
	if (statusCode >= 200 && statusCode < 300) {
		if (!body || body.status !== undefined) return classifyForeignBody(statusCode, body);
		if (!code || RESULT_FIELDS.some((field) => body[field] !== undefined)) {
			return { kind: 'ok', code: 'ok', message: 'ok', requestId, body };
		}
	}
	if (!code) {
		if (statusCode === 401) return { kind: 'tokenRejected', code: 'http401', message: 'HTTP 401', requestId };
		if (statusCode === 429) return { kind: 'throttled', code: 'http429', message: 'HTTP 429', requestId };
		return classifyForeignBody(statusCode, body);
	}
	const message = text(body?.message) ?? `HTTP ${statusCode}`;
	const answer = { code, message, requestId, body };
	if (statusCode === 401 || code === 'InvalidAuthentication') return { kind: 'tokenRejected', ...answer };
	if (statusCode === 429 || isThrottleCode(code)) return { kind: 'throttled', ...answer };
	if (configurationHint(code)) return { kind: 'configuration', ...answer };
	if (statusCode >= 500 || isInternalFailure(code)) return { kind: 'transient', ...answer };
	return { kind: 'refused', ...answer };
}

/** `ding talk error[subcode=90002,submsg=…]`: some errcode 88 answers carry the real code only in their message. */
const WRAPPED_ERRMSG = /subcode=(-?\d+)(?:,\s*submsg=([^\]]*))?/;

/** Old-style API (`oapi` host): HTTP 200 with `{errcode, errmsg}`; `/topapi/` may wrap the real code as `errcode: 88` + `sub_code`. */
export function classifyOapiAnswer(statusCode: number, rawBody: unknown): Answer {
	const body = asObject(rawBody);
	if (!body || body.errcode === undefined) return classifyForeignBody(statusCode, body);
	const requestId = text(body.request_id) ?? text(body.requestId);
	let errcode = Number(body.errcode);
	let message = text(body.errmsg) ?? '';
	if (errcode === 88 && body.sub_code !== undefined) {
		errcode = Number(body.sub_code);
		message = text(body.sub_msg) ?? message;
	} else if (errcode === 88) {
		const wrapped = WRAPPED_ERRMSG.exec(message);
		if (wrapped) {
			errcode = Number(wrapped[1]);
			message = wrapped[2]?.trim() || message;
		}
	}
	const code = Number.isFinite(errcode) ? String(errcode) : String(body.sub_code ?? body.errcode);
	const answer = { code, message: message || `errcode ${code}`, requestId, body };
	if (errcode === 0) return { kind: 'ok', ...answer };
	if (TOKEN_ERRCODES.has(errcode)) return { kind: 'tokenRejected', ...answer };
	if (THROTTLE_ERRCODES.has(errcode)) return { kind: 'throttled', ...answer };
	if (errcode === -1) return { kind: 'transient', ...answer };
	if (configurationHint(code)) return { kind: 'configuration', ...answer };
	if (statusCode >= 500) return { kind: 'transient', ...answer };
	return { kind: 'refused', ...answer };
}

/** A request that never got an answer: sorted into `timeout` or `network`, with no part of the request echoed. */
export function classifyRequestFailure(error: unknown): Answer {
	const chain = errorChain(error);
	const codes = chain.map((level) => level.code).filter((code): code is string => typeof code === 'string');
	const messages = chain.map((level) => level.message).filter((message): message is string => typeof message === 'string');
	const all = `${codes.join(' ')} ${messages.join(' ')}`;
	if (/ETIMEDOUT|ECONNABORTED|ESOCKETTIMEDOUT|timeout|timed out/i.test(all)) {
		return { kind: 'transient', code: 'timeout', message: 'No answer from DingTalk within the timeout.', lost: true };
	}
	const networkCode = codes.find((code) => /^E[A-Z]+$/.test(code));
	return {
		kind: 'transient',
		code: 'network',
		message: `The connection to DingTalk failed${networkCode ? ` (${networkCode})` : ''}.`,
		// A refused connection never carried the call; any other failure may have come after DingTalk got it.
		lost: networkCode !== 'ECONNREFUSED',
	};
}
