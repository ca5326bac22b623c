import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import type { Answer, ApiShape, TokenFailureKind } from './DingTalkAnswers';
import { classifyAnswer, classifyRequestFailure, isUnreachable } from './DingTalkAnswers';
import { currentClock } from './DingTalkClock';
import { dingTalkBaseUrls, hostOf, tokenUrl } from './DingTalkHosts';
import { DingTalkTokenDueError, DingTalkTokenError, renewAfter, tokenDue } from './DingTalkTokenRenewal';

/** Every error the credential throws while getting a token starts with this. */
const TOKEN_ERROR_PREFIX = 'Could not get a DingTalk access token';

/** DingTalk's token APIs (`accessToken`, `corpAccessToken`) answer with the token, or as every other API of the api host. */
const TOKEN_API: ApiShape = { host: 'api', resultFields: ['accessToken'] };

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

/**
 * What a token answer that brought no token means for the run. DingTalk's token APIs sit behind the same
 * gateway as every other API and fail the same passing ways (throttled, busy, internal errors, lost
 * answers); only a configuration error or a refusal is final.
 */
function tokenFailureOf(answer: Answer): TokenFailureKind {
	return answer.kind === 'throttled' || answer.kind === 'failed' || answer.kind === 'lost' ? 'passing' : 'refused';
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
		const url = tokenUrl(credentials);
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
			const failure = classifyRequestFailure(error);
			throw new DingTalkTokenError(
				isUnreachable(error) ? 'unreachable' : 'passing',
				failure.code,
				`${TOKEN_ERROR_PREFIX}: n8n could not reach ${api} (${failure.message}). Check the credential's Environment and base URLs, and that n8n can reach DingTalk.`,
				failure.kind,
			);
		}

		const answer = classifyAnswer(TOKEN_API, response.statusCode, response.body);
		const token = answer.body?.accessToken;
		if (answer.kind === 'ok' && typeof token === 'string' && token) {
			return { accessToken: token, renewAt: renewAfter(answer.body?.expireIn, currentClock().now()) };
		}
		const failure = answer.kind === 'ok' ? 'passing' : tokenFailureOf(answer);
		const said = `${answer.code}: ${answer.kind === 'ok' ? 'the answer carried no token' : answer.message}`;
		const sentence =
			failure === 'passing'
				? `DingTalk's token API failed for a moment (${said}).`
				: `DingTalk refused the token request (${said}). ${answer.text ?? "Check the credential's keys and Environment."}`;
		throw new DingTalkTokenError(
			failure,
			answer.code,
			withoutSecrets(`${TOKEN_ERROR_PREFIX}: ${sentence}`, credentials),
			answer.kind === 'ok' ? 'failed' : answer.kind,
			answer.waitSeconds,
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
		if (hostOf(credentials, url) === 'api') {
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
