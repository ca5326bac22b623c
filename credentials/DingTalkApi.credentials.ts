import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import { currentClock } from './DingTalkClock';
import { dingTalkBaseUrls, isNewStyleApiUrl } from './DingTalkHosts';
import type { TokenFailureKind } from './DingTalkTokenRenewal';
import { DingTalkTokenDueError, DingTalkTokenError, errorChain, renewAfter, tokenDue } from './DingTalkTokenRenewal';

/** Every error the credential throws while getting a token starts with this. */
const TOKEN_ERROR_PREFIX = 'Could not get a DingTalk access token';

interface TokenResponse {
	statusCode: number;
	body: unknown;
}

function secretsOf(credentials: ICredentialDataDecryptedObject): string[] {
	return ['clientSecret', 'suiteSecret', 'suiteTicket', 'accessToken']
		.map((name) => credentials[name])
		.filter((value): value is string => typeof value === 'string' && value.length >= 4);
}

/** DingTalk's messages should never echo a secret, but an error that reaches the user must not either. */
function withoutSecrets(text: string, credentials: ICredentialDataDecryptedObject): string {
	return secretsOf(credentials).reduce((redacted, secret) => redacted.split(secret).join('***'), text);
}

/** No connection at all: the address is wrong (or n8n cannot reach DingTalk), not a passing fault. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A code anywhere in the error chain n8n's helper threw (axios puts the socket's code on a cause). */
function networkCode(error: unknown): string {
	const code = errorChain(error).find((level) => typeof level.code === 'string' && /^E[A-Z_]+$/.test(level.code))?.code;
	return typeof code === 'string' ? code : '';
}

/** Words for a failed connection; n8n rewrites any message that carries a raw code such as ECONNREFUSED. */
function networkReason(code: string, error: unknown): string {
	const reasons: Record<string, string> = {
		ECONNREFUSED: 'connection refused',
		ENOTFOUND: 'host name not found',
		EAI_AGAIN: 'host name lookup failed',
		EHOSTUNREACH: 'host unreachable',
		ENETUNREACH: 'network unreachable',
		ETIMEDOUT: 'timed out',
		ECONNABORTED: 'timed out',
		ECONNRESET: 'connection dropped',
	};
	if (reasons[code]) return reasons[code];
	return /timeout|timed out/i.test(String((error as { message?: unknown }).message ?? '')) ? 'timed out' : 'network error';
}

/**
 * DingTalk's token endpoints sit behind the same gateway as every other API and fail the same passing
 * ways: 5xx, 429, throttling, `system.busy` (also with HTTP 200), a body that is not DingTalk's JSON.
 * Only a DingTalk code on a 4xx answer (`invalidClientIdOrSecret` …) says the keys are wrong.
 */
function tokenAnswerFailure(statusCode: number, code: string | undefined): TokenFailureKind {
	if (statusCode >= 500 || statusCode === 429 || !code) return 'passing';
	if (/busy|^Forbidden\.AccessDenied\.(Qps|Qpm)|^(system|server|internal|service)[._-]?(error|unavailable)$/i.test(code)) {
		return 'passing';
	}
	return statusCode >= 200 && statusCode < 300 ? 'passing' : 'refused';
}

export class DingTalkApi implements ICredentialType {
	name = 'dingTalkApi';

	displayName = 'DingTalk API';

	icon: Icon = {
		light: 'file:../nodes/DingTalkRecallMessage/dingtalk.svg',
		dark: 'file:../nodes/DingTalkRecallMessage/dingtalk.dark.svg',
	};

	documentationUrl = 'https://open.dingtalk.com/document/orgapp/obtain-the-access_token-of-an-internal-app';

	properties: INodeProperties[] = [
		{
			displayName: 'App Type',
			name: 'appType',
			type: 'options',
			options: [
				{
					name: 'Internal App',
					value: 'internal',
					description: 'An app your organisation created in the DingTalk developer console',
				},
				{
					name: 'Third-Party Enterprise App',
					value: 'thirdParty',
					description: 'An app from an ISV, authorised by your organisation',
				},
			],
			default: 'internal',
		},
		{
			displayName: 'Client ID (AppKey)',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			displayOptions: { show: { appType: ['internal'] } },
			description: 'The Client ID (formerly AppKey) on the app\'s "Credentials & Basic Info" page',
		},
		{
			displayName: 'Client Secret (AppSecret)',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { appType: ['internal'] } },
			description: 'The Client Secret (formerly AppSecret) on the same page',
		},
		{
			displayName: 'Suite Key',
			name: 'suiteKey',
			type: 'string',
			default: '',
			required: true,
			displayOptions: { show: { appType: ['thirdParty'] } },
		},
		{
			displayName: 'Suite Secret',
			name: 'suiteSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { appType: ['thirdParty'] } },
		},
		{
			displayName: 'Authorised Corp ID',
			name: 'authCorpId',
			type: 'string',
			default: '',
			required: true,
			displayOptions: { show: { appType: ['thirdParty'] } },
			description: 'The CorpId of the organisation that authorised the app',
		},
		{
			displayName: 'Suite Ticket',
			name: 'suiteTicket',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { appType: ['thirdParty'] } },
			description: 'The latest suite ticket DingTalk pushed to your app',
		},
		{
			displayName: 'Environment',
			name: 'environment',
			type: 'options',
			options: [
				{
					name: 'China (api.dingtalk.com)',
					value: 'china',
					description: 'Almost every DingTalk organisation',
				},
				{
					name: 'Global (api.dingtalk.io)',
					value: 'global',
					description: 'Organisations on DingTalk\'s overseas platform',
				},
				{
					name: 'Custom',
					value: 'custom',
					description: 'A proxy, a private deployment or a test server',
				},
			],
			default: 'china',
		},
		{
			displayName: 'API Base URL',
			name: 'apiBaseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://api.dingtalk.com',
			displayOptions: { show: { environment: ['custom'] } },
			description: 'Base URL of the new-style API (paths starting with /v1.0/)',
		},
		{
			displayName: 'OAPI Base URL',
			name: 'oapiBaseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://oapi.dingtalk.com',
			displayOptions: { show: { environment: ['custom'] } },
			description: 'Base URL of the old-style API (paths starting with /topapi/)',
		},
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
		{
			displayName: 'Renew At',
			name: 'renewAt',
			type: 'hidden',
			default: 0,
			description: 'When the stored token is to be renewed (milliseconds since 1970), shortly before DingTalk expires it',
		},
	];

	/** Exchanges the app's keys for an access token; n8n stores it in `accessToken`. */
	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const { api } = dingTalkBaseUrls(credentials);
		const thirdParty = credentials.appType === 'thirdParty';
		const url = `${api}/v1.0/oauth2/${thirdParty ? 'corpAccessToken' : 'accessToken'}`;
		const body = thirdParty
			? {
					suiteKey: credentials.suiteKey,
					suiteSecret: credentials.suiteSecret,
					authCorpId: credentials.authCorpId,
					suiteTicket: credentials.suiteTicket,
				}
			: { appKey: credentials.clientId, appSecret: credentials.clientSecret };

		let response: TokenResponse;
		try {
			response = (await this.helpers.httpRequest({
				method: 'POST',
				url,
				body,
				json: true,
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				timeout: 15000,
			})) as TokenResponse;
		} catch (error) {
			// The raw error carries the request, secrets included: build a clean one.
			const code = networkCode(error);
			const reason = networkReason(code, error);
			throw new DingTalkTokenError(
				UNREACHABLE_CODES.has(code) ? 'unreachable' : 'passing',
				reason === 'timed out' ? 'timeout' : 'network',
				`${TOKEN_ERROR_PREFIX}: n8n could not reach ${api} (${reason}). Check the credential's Environment and base URLs, and that n8n can reach DingTalk.`,
			);
		}

		const payload = (response.body !== null && typeof response.body === 'object' ? response.body : {}) as {
			accessToken?: unknown;
			expireIn?: unknown;
			code?: unknown;
			message?: unknown;
		};
		if (response.statusCode < 300 && typeof payload.accessToken === 'string' && payload.accessToken) {
			return { accessToken: payload.accessToken, renewAt: renewAfter(payload.expireIn, currentClock().now()) };
		}
		const code = typeof payload.code === 'string' && payload.code ? payload.code : undefined;
		const detail = typeof payload.message === 'string' ? payload.message : 'the answer was not a DingTalk token response';
		if (code === 'InvalidAction.NotFound' || response.statusCode === 404) {
			throw new DingTalkTokenError(
				'refused',
				code ?? 'HTTP 404',
				`${TOKEN_ERROR_PREFIX}: ${api} has no DingTalk token API (${code ?? 'HTTP 404'}). Check the credential's Environment; for Custom, API Base URL must be DingTalk's new-style API host (such as https://api.dingtalk.com), without a path.`,
			);
		}
		const failure = tokenAnswerFailure(response.statusCode, code);
		const shown = code ?? `HTTP ${response.statusCode}`;
		if (failure === 'passing') {
			throw new DingTalkTokenError(
				'passing',
				code ?? (response.statusCode >= 500 ? 'system.error' : 'invalidResponse'),
				withoutSecrets(`${TOKEN_ERROR_PREFIX}: DingTalk's token API failed for a moment (${shown}: ${detail}).`, credentials),
			);
		}
		const keys = thirdParty
			? 'Suite Key, Suite Secret, Authorised Corp ID and Suite Ticket'
			: 'Client ID and Client Secret';
		throw new DingTalkTokenError(
			'refused',
			shown,
			withoutSecrets(
				`${TOKEN_ERROR_PREFIX}: DingTalk answered ${shown} (${detail}). Check the ${keys}, and that the Environment matches your organisation.`,
				credentials,
			),
		);
	}

	/**
	 * One token, two ways to send it: a header on the new-style host, a query parameter on the old-style
	 * one. n8n's legacy request helper (the HTTP Request node's) names the address `uri`, not `url`; it
	 * renews the token after any failure and repeats the request, so a due token is refused there before it
	 * goes out. Everywhere else the token is sent as it is: n8n's other helpers renew only after HTTP 401,
	 * and the node renews due tokens itself before its calls.
	 */
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const token = String(credentials.accessToken ?? '');
		const { uri } = requestOptions as IHttpRequestOptions & { uri?: unknown };
		const url = `${requestOptions.baseURL ?? ''}${requestOptions.url ?? String(uri ?? '')}`;
		// The token API itself (the credential's Test button) needs no token.
		if (uri !== undefined && token && tokenDue(credentials, currentClock().now()) && !url.includes('/oauth2/')) {
			throw new DingTalkTokenDueError();
		}
		if (isNewStyleApiUrl(url)) {
			return {
				...requestOptions,
				headers: { ...requestOptions.headers, 'x-acs-dingtalk-access-token': token },
			};
		}
		return { ...requestOptions, qs: { ...requestOptions.qs, access_token: token } };
	}

	test: ICredentialTestRequest = {
		request: {
			method: 'POST',
			baseURL:
				'={{ $credentials.environment === "custom" ? $credentials.apiBaseUrl.replace(/\\/+$/, "") : $credentials.environment === "global" ? "https://api.dingtalk.io" : "https://api.dingtalk.com" }}',
			url: '={{ $credentials.appType === "thirdParty" ? "/v1.0/oauth2/corpAccessToken" : "/v1.0/oauth2/accessToken" }}',
			body: {
				appKey: '={{ $credentials.appType === "thirdParty" ? undefined : $credentials.clientId }}',
				appSecret: '={{ $credentials.appType === "thirdParty" ? undefined : $credentials.clientSecret }}',
				suiteKey: '={{ $credentials.appType === "thirdParty" ? $credentials.suiteKey : undefined }}',
				suiteSecret: '={{ $credentials.appType === "thirdParty" ? $credentials.suiteSecret : undefined }}',
				authCorpId: '={{ $credentials.appType === "thirdParty" ? $credentials.authCorpId : undefined }}',
				suiteTicket: '={{ $credentials.appType === "thirdParty" ? $credentials.suiteTicket : undefined }}',
			},
		},
	};
}
