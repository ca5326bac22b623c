import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import {
	ACCESS_TOKEN_DUE_MESSAGE,
	ACCESS_TOKEN_ERROR_PREFIX,
	dingTalkBaseUrls,
	isNewStyleApiUrl,
} from './DingTalkHosts';

interface TokenResponse {
	statusCode: number;
	body: unknown;
}

/** DingTalk's tokens live 7200 s; renew 5 minutes early (halfway for a shorter-lived token). */
const DEFAULT_TOKEN_LIFETIME_S = 7200;
const RENEWAL_MARGIN_MS = 5 * 60 * 1000;

/** When to stop using a token DingTalk issued now, valid for `expireIn` seconds. */
function renewAfter(expireIn: unknown, now: number): number {
	const lifetimeMs = (typeof expireIn === 'number' && expireIn > 0 ? expireIn : DEFAULT_TOKEN_LIFETIME_S) * 1000;
	return now + lifetimeMs - Math.min(RENEWAL_MARGIN_MS, lifetimeMs / 2);
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

/** Words for a failed connection; n8n rewrites any message that carries a raw code such as ECONNREFUSED. */
function networkReason(error: unknown): string {
	const code = String((error as { code?: unknown }).code ?? '');
	const reasons: Record<string, string> = {
		ECONNREFUSED: 'connection refused',
		ENOTFOUND: 'host name not found',
		EAI_AGAIN: 'host name lookup failed',
		ETIMEDOUT: 'timed out',
		ECONNABORTED: 'timed out',
		ECONNRESET: 'connection dropped',
	};
	return reasons[code] ?? 'network error';
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
			throw new Error(
				`${ACCESS_TOKEN_ERROR_PREFIX}: n8n could not reach ${api} (${networkReason(error)}). Check the credential's Environment and base URLs, and that n8n can reach DingTalk.`,
			);
		}

		const payload = (response.body ?? {}) as {
			accessToken?: unknown;
			expireIn?: unknown;
			code?: unknown;
			message?: unknown;
		};
		if (response.statusCode < 300 && typeof payload.accessToken === 'string' && payload.accessToken) {
			return { accessToken: payload.accessToken, renewAt: renewAfter(payload.expireIn, Date.now()) };
		}
		const code = typeof payload.code === 'string' ? payload.code : `HTTP ${response.statusCode}`;
		const detail =
			typeof payload.message === 'string'
				? payload.message
				: 'the answer was not a DingTalk token response';
		const keys = thirdParty
			? 'Suite Key, Suite Secret, Authorised Corp ID and Suite Ticket'
			: 'Client ID and Client Secret';
		if (code === 'InvalidAction.NotFound' || response.statusCode === 404) {
			throw new Error(
				`${ACCESS_TOKEN_ERROR_PREFIX}: ${api} has no DingTalk token API (${code}). Check the credential's Environment; for Custom, API Base URL must be DingTalk's new-style API host (such as https://api.dingtalk.com), without a path.`,
			);
		}
		throw new Error(
			withoutSecrets(
				`${ACCESS_TOKEN_ERROR_PREFIX}: DingTalk answered ${code} (${detail}). Check the ${keys}, and that the Environment matches your organisation.`,
				credentials,
			),
		);
	}

	/**
	 * One token, two ways to send it: a header on the new-style host, a query parameter on the old-style
	 * one. n8n's legacy request helper (used by the HTTP Request node) names the address `uri`, not `url`.
	 * A token due for renewal is not sent at all: the error makes n8n renew it and repeat the request.
	 */
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const token = String(credentials.accessToken ?? '');
		const { uri } = requestOptions as IHttpRequestOptions & { uri?: unknown };
		const url = `${requestOptions.baseURL ?? ''}${requestOptions.url ?? String(uri ?? '')}`;
		const due = Number(credentials.renewAt ?? 0);
		// The token API itself (the credential's Test button) needs no token.
		if (due > 0 && Date.now() >= due && !url.includes('/oauth2/')) throw new Error(ACCESS_TOKEN_DUE_MESSAGE);
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
