/** DingTalk's answers, every API on both hosts, sorted into what the caller does next: the one place the package reads them. */

/** Whom a configuration error concerns: the whole app (stop the run), or one robot or chat (fail its keys only). */
export type ConfigurationScope = 'app' | 'pool';

/** A configuration error: what DingTalk (or the node) said is set up wrongly. */
export type ConfigurationAnswer = Extract<Answer, { kind: 'configuration' }>;

/** How a refusal bears on the keys of the call. */
export type RefusalReach =
	/** One of DingTalk's documented key codes: the key is wrong; a call of several is split to find it. */
	| 'key'
	/** The call carried too many keys: smaller calls go. */
	| 'size'
	/** DingTalk says some keys were recalled and some not, without saying which. */
	| 'unheard'
	/** About the call, not a key DingTalk names: a one-message API's refusal, or a code no document lists. */
	| 'call';

/** What DingTalk said, or the node where DingTalk said nothing. */
interface Said {
	/** DingTalk's code (`invalid.processQueryKey`, `400002` …) or the node's own (`timeout`, `network`, `invalidResponse`). */
	code: string;
	/** DingTalk's words, or the node's where DingTalk said nothing. */
	message: string;
	requestId?: string;
	/** DingTalk's body: per-key results may come at any status. */
	body?: Record<string, unknown>;
	/** What the code means, or what to fix: its row in the table below. */
	text?: string;
}

/** One answer, sorted into what the caller does next. */
export type Answer = Said &
	(
		| { kind: 'ok'; body: Record<string, unknown> }
		/** DingTalk refused this call for a reason about its content: a key, a DING, a task id. */
		| { kind: 'refused'; reach: RefusalReach }
		/** The app or the node's settings are wrong; `text` says what to fix. */
		| { kind: 'configuration'; scope: ConfigurationScope }
		/** The token is invalid or expired: renew it once and repeat the call. */
		| { kind: 'tokenRejected' }
		/** Too many calls, banned for a while, or DingTalk busy: wait, slow down, repeat. */
		| { kind: 'throttled'; perSecond: boolean; waitSeconds?: number }
		/** DingTalk (or the connection, before the call went) failed for a moment and did nothing: repeat within Retries. */
		| { kind: 'failed' }
		/** No answer was heard (a timeout, a dropped connection, a body that is not DingTalk's): DingTalk may have acted. */
		| { kind: 'lost' }
		/** No access token could be had, so the call never went; `tokenAnswer` is how the token request ended. */
		| { kind: 'tokenUnavailable'; tokenAnswer: Answer }
		/** The execution was stopped before the call went. */
		| { kind: 'cancelled' }
	);

/** What one code means, whichever API or host gave it: the part of an answer its row decides. */
type Meaning = { text?: string } & (
	| { kind: 'refused'; reach: RefusalReach }
	| { kind: 'configuration'; scope: ConfigurationScope }
	| { kind: 'throttled'; perSecond: boolean }
	| { kind: 'tokenRejected' }
	| { kind: 'failed' }
);

const BASE_URL_HINT =
	"Check the DingTalk API credential's Environment; for Custom, API Base URL must be DingTalk's new-style API host (such as https://api.dingtalk.com) and OAPI Base URL its old-style host (such as https://oapi.dingtalk.com), each without a path.";
const PERMISSION_HINT =
	'The DingTalk app lacks the permission for this API. In the DingTalk developer console, open the app → Permissions and grant "qyapi_robot_sendmsg" (robot messages) or, for DING messages, "Premium.Ding.Write" (only in the Professional and Exclusive editions), then run again.';
const IP_HINT =
	"DingTalk refused n8n's IP address. Add the public IP of your n8n server to the app's IP allow-list (developer console → the app → Security settings), then run again.";
const QUOTA_HINT = "The organisation's monthly API quota is spent. Wait for the next month or upgrade the DingTalk plan.";
const INTERNAL_KEYS_HINT =
	"Check the credential's Client ID and Client Secret (the app's Credentials & Basic Info page), and that its Environment matches your organisation.";
const SUITE_KEYS_HINT =
	"Check the credential's Suite Key, Suite Secret, Authorised Corp ID and Suite Ticket, and that its Environment matches your organisation.";
const TOO_OLD = 'The message is older than 24 hours; DingTalk no longer lets it be recalled.';

const configuration = (scope: ConfigurationScope, text: string): Meaning => ({ kind: 'configuration', scope, text });
const keyRefusal = (text: string): Meaning => ({ kind: 'refused', reach: 'key', text });
const refusal = (text: string): Meaning => ({ kind: 'refused', reach: 'call', text });
const throttle = (perSecond: boolean): Meaning => ({ kind: 'throttled', perSecond });
const TOKEN_REJECTED: Meaning = { kind: 'tokenRejected' };
const BUSY: Meaning = { kind: 'throttled', perSecond: false };

/** Every code DingTalk documents or was recorded giving, on both hosts, by what it means: a new answer shape is one row here. */
const ROWS: Array<[codes: string[], meaning: Meaning]> = [
	// The token and how it travels.
	[['InvalidAuthentication', '40000', '40001', '40014', '41001', '42001'], TOKEN_REJECTED],
	[['AuthenticationFailed.MissingParameter'], configuration('app', `DingTalk received the call without its access token header. ${BASE_URL_HINT}`)],
	[['invalidClientIdOrSecret', '40089'], configuration('app', INTERNAL_KEYS_HINT)],
	[['invalidSuiteKey'], configuration('app', SUITE_KEYS_HINT)],
	[['invalidSuiteTicket'], configuration('app', `${SUITE_KEYS_HINT} DingTalk pushes a new suite ticket every few hours: use the latest.`)],
	[['invalidAuthInfo'], configuration('app', `${SUITE_KEYS_HINT} The organisation must have authorised the app.`)],
	// Limits and a busy DingTalk.
	[['Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', 'Forbidden.AccessDenied.QpsLimitForApi', 'Forbidden.AccessDenied.QpsLimitForSuitekeyAndOrgAndApi', '90018', '90002'], throttle(true)],
	[['Forbidden.AccessDenied.QpmLimitForAppkeyAndApi', '143103', '143104', '143203', '143204'], throttle(false)],
	[['system.busy', 'systemBusy', '-1', '1430003'], BUSY],
	[['system.error'], { kind: 'failed', text: 'DingTalk had an internal error, even after retries. Try again later.' }],
	// The app as a whole.
	[['Forbidden.AccessDenied.AccessTokenPermissionDenied', '60011'], configuration('app', PERMISSION_HINT)],
	[['Forbidden.AccessDenied.IpNotInWhiteList', '60020'], configuration('app', IP_HINT)],
	[['Forbidden.AccessDenied.ApiCountLimitForOrg', '90020'], configuration('app', QUOTA_HINT)],
	[['InvalidAction.NotFound'], configuration('app', `DingTalk does not know this API at the credential's API Base URL. ${BASE_URL_HINT}`)],
	[['22'], configuration('app', `DingTalk does not know this method at the credential's OAPI Base URL. ${BASE_URL_HINT}`)],
	[['Missingbody'], configuration('app', `DingTalk received the call without its JSON body: a proxy between n8n and DingTalk may change requests. ${BASE_URL_HINT}`)],
	// One robot, one chat, one app of the organisation.
	[['invalidParameter.robotCode'], configuration('pool', 'DingTalk does not know this robotCode. Copy the RobotCode from the developer console (the app → Robot) and check that the robot is installed in your organisation.')],
	[['invalid.openConversationId'], configuration('pool', 'DingTalk does not know this openConversationId for this robot. Check that it is the conversation the message was sent to, and that the robot is still in it.')],
	[['miss.openConversationId'], configuration('pool', 'DingTalk says the openConversationId is missing. Give the openConversationId of the chat the message was sent to.')],
	[['bot.stopped'], configuration('pool', 'The robot is stopped in this conversation. Start it again in the chat (or the developer console), then run again.')],
	[['40056'], configuration('pool', "DingTalk does not know this agentId. Copy the app's AgentId from the developer console (the app → Basic Info).")],
	// One key, one DING, one notification.
	[['invalid.processQueryKey'], keyRefusal('DingTalk does not know this processQueryKey. Check that it is the processQueryKey the robot send call returned.')],
	[['robot.processQueryKey.expired', 'processQueryKey.expireTime'], keyRefusal(TOO_OLD)],
	[['not.allowed.robotCode'], keyRefusal('This message was not sent by the given robot. Use the robotCode of the robot that sent it.')],
	[['invalidParameter.processQueryKey.missing'], keyRefusal('DingTalk says the processQueryKey is missing or empty.')],
	[['invalidParameter.processQueryKeys.overMax'], { kind: 'refused', reach: 'size' }],
	[['notRevoke.all.messages'], { kind: 'refused', reach: 'unheard', text: 'DingTalk said it could not recall every message of the call, without saying which.' }],
	// Sending: refusals of a whole send (none of its recipients got the message), DingTalk's limits on work notifications.
	[['staffId.notExisted'], refusal('DingTalk does not know a userId of this call in your organisation, and sent the message to none of its recipients. Check each userId (admin console → Contacts → the person → UserID).')],
	[['33012'], refusal('DingTalk does not know a userId of this call in your organisation. Check each userId.')],
	[['invalidParameter.msgKey'], refusal('DingTalk does not know this msgKey (message template). Use one of its robot message templates, such as sampleText or sampleMarkdown.')],
	[['invalidParameter.msgParam'], refusal('DingTalk refused the message: msgParam does not fit the msgKey (message template). Check the JSON message.')],
	[['invalidParameter.msgParam.length'], refusal("The message is longer than DingTalk allows (a group message's msgParam: 15,000 bytes).")],
	[['143105', '143205'], refusal('DingTalk allows an app 500 work notifications per person a day (100 for a third-party app), and this recipient had them already.')],
	[['143106', '143206'], refusal('DingTalk sends a person the same work notification once a day, and this one was sent today already.')],
	[['1430000'], refusal('DingTalk says the work notification has no recipients.')],
	[['1430002'], refusal('DingTalk refused the message for content it does not allow.')],
	// Refusals of a call that carries one message, or of a parameter: no key to single out.
	[['recall.ding.exception'], refusal('Check that Robot Code is the robot that sent this DING (only that robot can recall it), that the openDingId is one the ding/send call returned, and whether it was recalled before; DING needs the Professional or Exclusive edition and the permission Premium.Ding.Write.')],
	[['invalidParameter.param.invalid'], refusal('DingTalk says a parameter of the call is missing or not valid.')],
	[['400002'], refusal('DingTalk does not know this agentId and msgTaskId pair: the notification may already have been recalled (by an earlier run, or by hand), it may be older than 24 hours, or an ID is wrong. Look in DingTalk and check both IDs before recalling it again.')],
];

const CODES: ReadonlyMap<string, Meaning> = new Map(ROWS.flatMap(([codes, meaning]) => codes.map((code) => [code, meaning] as const)));

/** `system.error`, "system error", `ServiceException`, `UnknownError` … in any spelling: DingTalk failed for a moment. */
function isInternalFailure(code: string): boolean {
	const word = code.toLowerCase().replace(/[^a-z]/g, '');
	return /^(system|server|internal|service|unknown)(error|exception|fault|unavailable)$/.test(word) || word === 'serviceunavailable';
}

/** Families of codes DingTalk extends without notice, for codes no row names. */
function meaningOfFamily(code: string): Meaning | undefined {
	if (/^Forbidden\.AccessDenied\.Qps/.test(code)) return throttle(true);
	if (/^Forbidden\.AccessDenied\.Qpm/.test(code)) return throttle(false);
	if (/^(system)?[._-]?busy$/i.test(code)) return BUSY;
	if (isInternalFailure(code)) return { kind: 'failed' };
	if (/overMax/i.test(code)) return { kind: 'refused', reach: 'size' };
	return undefined;
}

/** What a code means: its row, its family, or nothing known. */
export function meaningOf(code: string): Meaning | undefined {
	return CODES.get(code) ?? meaningOfFamily(code);
}

/** The codes the node gives where DingTalk gave none, and what each means for the person reading it. */
export const NODE_CODES: ReadonlyMap<string, string> = new Map([
	['timeout', 'DingTalk did not answer in time, even after retries.'],
	['network', 'The connection to DingTalk failed, even after retries.'],
	['invalidResponse', "DingTalk's answer did not come through: what came back was not DingTalk's (an HTML page, an empty body, a gateway's own answer), even after retries."],
	['notReported', 'DingTalk answered the call but did not say whether this message was recalled.'],
	['cancelled', 'The execution was stopped before DingTalk answered for this message.'],
	['ipBanned', 'DingTalk kept refusing calls from this IP address for a while (too many calls), even after waiting. Run again later.'],
	['credentialUnavailable', 'n8n could not read the DingTalk API credential.'],
	['internalError', 'The node failed while recalling.'],
	['invalidInput', 'The input item does not give what the node needs.'],
	['invalidOptions', "The node's Options could not be read."],
	['missingBaseUrl', 'The credential has no base URL for its Custom environment.'],
	['invalidBaseUrl', "The credential's base URL is not an http or https address."],
]);

/** How an error names a code: DingTalk's own, or the node's (`http404`, `timeout` …). */
export function codeLabel(code: string): string {
	return NODE_CODES.has(code) || /^http\d+$/.test(code) ? `code: ${code}` : `DingTalk code: ${code}`;
}

/** What sets one of DingTalk's APIs apart when its answer is read. */
export interface ApiShape {
	host: 'api' | 'oapi';
	/** Fields DingTalk's 2xx answer of this API carries (one is enough): without them the body is a gateway's. */
	resultFields: readonly string[];
	/** A field the answer repeats from the call (a DING's `openDingId`): an answer that names another value is not about this call. */
	echo?: { field: string; value: string };
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
	return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
	return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** `ding talk error[subcode=90002,submsg=…]`: some errcode 88 answers carry the real code only in their message. */
const WRAPPED_ERRMSG = /subcode=(-?\d+)(?:,\s*submsg=([^\]]*))?/;

/** The code and message of an oapi answer: `errcode`, or the `sub_code` an errcode 88 wraps (a string, or only inside `errmsg`). */
function oapiCode(body: Record<string, unknown>): { code: string; message: string } {
	let code = text(body.errcode) ?? '';
	let message = text(body.errmsg) ?? '';
	if (code === '88') {
		const wrapped = WRAPPED_ERRMSG.exec(message);
		if (text(body.sub_code) !== undefined) {
			code = text(body.sub_code) ?? code;
			message = text(body.sub_msg) ?? message;
		} else if (wrapped) {
			code = wrapped[1];
			message = wrapped[2]?.trim() || message;
		}
	}
	return { code, message: message || `errcode ${code}` };
}

/** DingTalk's old-style host answered at the API Base URL. */
const WRONG_API_HOST = configuration('app', `The credential's API Base URL leads to DingTalk's old-style host, which does not know the new-style APIs. ${BASE_URL_HINT}`);

/** A body that is not DingTalk's: the IP ban's own JSON, or anything else (an HTML page, an empty body, a gateway's JSON). */
function foreignBody(statusCode: number, body: Record<string, unknown> | undefined): Answer {
	if (body && Number(body.status) === 1111) {
		const wait = Number(body.wait);
		return {
			kind: 'throttled',
			perSecond: false,
			code: 'ipBanned',
			message: 'DingTalk has temporarily banned this IP address for sending too many calls.',
			waitSeconds: Number.isFinite(wait) && wait > 0 ? wait : undefined,
		};
	}
	if (statusCode === 401) return { kind: 'tokenRejected', code: 'http401', message: 'HTTP 401' };
	if (statusCode === 429) return { kind: 'throttled', perSecond: false, code: 'http429', message: 'HTTP 429' };
	if (statusCode === 404) {
		return { ...configuration('app', `No DingTalk API answers at the credential's base URL. ${BASE_URL_HINT}`), code: 'http404', message: 'HTTP 404: no DingTalk API at this address' };
	}
	return { kind: 'lost', code: 'invalidResponse', message: `HTTP ${statusCode} with a body that is not DingTalk's answer` };
}

/** What an unknown code means by the HTTP status it came with. */
function meaningOfStatus(statusCode: number): Meaning {
	if (statusCode === 401) return TOKEN_REJECTED;
	if (statusCode === 429) return BUSY;
	// A 2xx error answer with a code no row names: DingTalk failed to do it, for a reason of its own.
	if (statusCode >= 500 || statusCode < 300) return { kind: 'failed' };
	return { kind: 'refused', reach: 'call' };
}

/** Sorts one answer of the API `shape` describes, at any HTTP status. */
export function classifyAnswer(shape: ApiShape, statusCode: number, rawBody: unknown): Answer {
	const body = asObject(rawBody);
	if (!body) return foreignBody(statusCode, body);
	const success = statusCode >= 200 && statusCode < 300;
	// DingTalk's old-style host answers with an errcode at HTTP 200 only: at another status, the body is a gateway's.
	const oldStyle = success && body.errcode !== undefined;
	let said: Omit<Said, 'body'>;
	if (shape.host === 'oapi' && oldStyle) {
		said = { ...oapiCode(body), requestId: text(body.request_id) ?? text(body.requestId) };
		if (said.code === '0') return { kind: 'ok', code: 'ok', message: 'ok', requestId: said.requestId, body };
	} else {
		const requestId = text(body.requestid) ?? text(body.requestId);
		// Recorded: DingTalk also answers HTTP 200 with only `{code, message, requestid}` (system.busy).
		const hasResult = shape.host === 'api' && shape.resultFields.some((field) => body[field] != null);
		const { echo } = shape;
		if (success && hasResult && echo && String(body[echo.field]) !== echo.value) {
			return { kind: 'lost', code: 'invalidResponse', message: `the answer names another ${echo.field} than the call's`, requestId };
		}
		if (success && hasResult) return { kind: 'ok', code: 'ok', message: 'ok', requestId, body };
		// DingTalk's codes on the api host are strings: a number there is a gateway's own error.
		const code = shape.host === 'api' && typeof body.code === 'string' && body.code !== '' ? body.code : undefined;
		// An error status with the API's result fields and no code: DingTalk's own answer all the same (per-key results in a 400).
		said = { code: code ?? (hasResult ? `http${statusCode}` : ''), message: text(body.message) ?? `HTTP ${statusCode}`, requestId };
		// Only the old-style host answers with an errcode (a method it does not know: 22): the API Base URL leads to it.
		if (!said.code && shape.host === 'api' && oldStyle && body.code === undefined) {
			return { ...WRONG_API_HOST, ...oapiCode(body), requestId, body };
		}
	}
	if (!said.code) return { ...foreignBody(statusCode, body), requestId: said.requestId };
	const meaning = meaningOf(said.code) ?? meaningOfStatus(statusCode);
	return { ...said, body, ...meaning };
}

/** An error and the causes under it, as n8n's helpers and axios wrap them (a few levels at most). */
export function errorChain(error: unknown): Array<Record<string, unknown>> {
	const chain: Array<Record<string, unknown>> = [];
	for (let current = error; current && typeof current === 'object' && chain.length < 6; ) {
		const level = current as Record<string, unknown>;
		chain.push(level);
		current = level.cause;
	}
	return chain;
}

/** Network codes that mean no connection was made: the call never left, so DingTalk did nothing. */
const NOT_CONNECTED = new Map<string, string>([
	['ECONNREFUSED', 'connection refused'],
	['ENOTFOUND', 'host name not found'],
	['EAI_AGAIN', 'host name lookup failed'],
	['EHOSTUNREACH', 'host unreachable'],
	['ENETUNREACH', 'network unreachable'],
]);

/** A network code anywhere in the error chain n8n's helper threw (axios puts the socket's code on a cause). */
function networkCode(error: unknown): string | undefined {
	const code = errorChain(error).find((level) => typeof level.code === 'string' && /^E[A-Z_]+$/.test(level.code))?.code;
	return typeof code === 'string' ? code : undefined;
}

/** A request with no answer: lost (DingTalk may have acted), or failed before it went (no connection); never echoed, it holds secrets. */
export function classifyRequestFailure(error: unknown): Answer {
	const code = networkCode(error);
	const messages = errorChain(error).map((level) => level.message).filter((message): message is string => typeof message === 'string');
	if (/ETIMEDOUT|ECONNABORTED|ESOCKETTIMEDOUT/.test(code ?? '') || /timeout|timed out/i.test(messages.join(' '))) {
		return { kind: 'lost', code: 'timeout', message: 'timed out' };
	}
	const notConnected = code === undefined ? undefined : NOT_CONNECTED.get(code);
	if (notConnected) return { kind: 'failed', code: 'network', message: notConnected };
	return { kind: 'lost', code: 'network', message: code === 'ECONNRESET' ? 'connection dropped' : 'connection failed' };
}

/** One key's verdict in a per-key answer (`successResult` / `failedResult`). */
export type KeyVerdict =
	| { recalled: true }
	| {
			recalled: false;
			/** DingTalk's reason, as it gave it. */
			reason: string;
			/** `failed`: DingTalk failed internally on it, worth a repeat; `refused`: DingTalk refused it. */
			kind: 'failed' | 'refused';
			/** A documented key code: the key is wrong. Any other reason may hide a message recalled before. */
			documented: boolean;
	  };

/** The keys a per-key answer names (`successResult`, `failedResult` with DingTalk's reason), at any HTTP status. */
export function keyVerdicts(body: Record<string, unknown> | undefined): Map<string, KeyVerdict> {
	const verdicts = new Map<string, KeyVerdict>();
	const successResult = body?.successResult;
	const failedResult = body?.failedResult;
	if (failedResult !== null && typeof failedResult === 'object' && !Array.isArray(failedResult)) {
		for (const [key, value] of Object.entries(failedResult)) {
			const reason = (typeof value === 'string' || typeof value === 'number' ? String(value) : '').trim() || 'failed';
			const meaning = meaningOf(reason);
			verdicts.set(key, {
				recalled: false,
				reason,
				// DingTalk failing, busy or over its limit on this key: worth a repeat, as such a whole call is.
				kind: meaning?.kind === 'failed' || meaning?.kind === 'throttled' ? 'failed' : 'refused',
				documented: meaning?.kind === 'refused' && meaning.reach === 'key',
			});
		}
	}
	// A key both lists name was recalled: successResult is DingTalk's word that it is gone.
	if (Array.isArray(successResult)) for (const key of successResult) verdicts.set(String(key), { recalled: true });
	return verdicts;
}

/** `value` with every secret in its strings masked, however deep: DingTalk's answers should never echo one, but none may reach the user. */
export function redactSecrets<T>(value: T, secrets: readonly string[], depth = 0): T {
	if (typeof value === 'string') return secrets.reduce((masked, secret) => masked.split(secret).join('***'), value as string) as T;
	if (value === null || typeof value !== 'object' || depth > 6 || !secrets.length) return value;
	if (Array.isArray(value)) return value.map((entry) => redactSecrets(entry, secrets, depth + 1)) as T;
	return Object.fromEntries(
		Object.entries(value).map(([key, entry]) => [redactSecrets(key, secrets), redactSecrets(entry, secrets, depth + 1)]),
	) as T;
}
