import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import type { Answer, ApiShape } from './DingTalkAnswers';
import { classifyAnswer, classifyRequestFailure, redactSecrets } from './DingTalkAnswers';
import type { Clock } from './DingTalkClock';
import { systemClock } from './DingTalkClock';
import { baseUrlProblem, dingTalkBaseUrls, hostOf, tokenUrl } from './DingTalkHosts';
import { DingTalkTokenDueError, DingTalkTokenError, DingTalkTokenReady, renewAfter, secretsOf, TOKEN_ONLY_HEADER, tokenDue } from './DingTalkTokenRenewal';

/** Every error the credential throws while getting a token starts with this. */
const TOKEN_ERROR_PREFIX = 'Could not get a DingTalk access token';

/** DingTalk's token APIs (`accessToken`, `corpAccessToken`) answer with the token, or as every other API of the api host. */
const TOKEN_API: ApiShape = { host: 'api', resultFields: ['accessToken'] };

/** The token answer's words for people: what failed, and what to check. */
function tokenFailureMessage(answer: Answer): string {
	if (answer.kind === 'throttled' || answer.kind === 'failed' || answer.kind === 'lost' || answer.kind === 'ok') {
		const said = answer.kind === 'ok' ? 'the answer carried no token' : answer.message;
		return `${TOKEN_ERROR_PREFIX}: DingTalk's token API failed for a moment (${answer.code}: ${said}).`;
	}
	return `${TOKEN_ERROR_PREFIX}: DingTalk refused the token request (${answer.code}: ${answer.message}). ${answer.text ?? "Check the credential's keys and Environment."}`;
}

/** Exchanges the app's keys for an access token, which n8n stores in `accessToken`; `clock` dates its renewal. */
function requestToken(clock: Clock) {
	return async function preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject) {
		const { api } = dingTalkBaseUrls(credentials);
		// Before any request: n8n's credential test shows this error's message as it is.
		const badUrl = baseUrlProblem(credentials);
		if (badUrl) {
			const message = `${TOKEN_ERROR_PREFIX}: ${badUrl.problem} ${badUrl.fix}`;
			throw new DingTalkTokenError(message, { kind: 'configuration', scope: 'app', code: badUrl.code, message });
		}
		const body =
			credentials.appType === 'thirdParty'
				? {
						suiteKey: credentials.suiteKey,
						suiteSecret: credentials.suiteSecret,
						authCorpId: credentials.authCorpId,
						suiteTicket: credentials.suiteTicket,
					}
				: { appKey: credentials.clientId, appSecret: credentials.clientSecret };
		let answer: Answer;
		let message: string;
		try {
			const response = (await this.helpers.httpRequest({
				method: 'POST',
				url: tokenUrl(credentials),
				body,
				json: true,
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				timeout: 15000,
			})) as { statusCode: number; body: unknown };
			answer = classifyAnswer(TOKEN_API, response.statusCode, response.body);
			message = tokenFailureMessage(answer);
		} catch (error) {
			// The raw error carries the request, secrets included: only its kind is kept.
			answer = classifyRequestFailure(error);
			const check = credentials.environment === 'custom' ? "Environment (Custom: its API Base URL)" : 'Environment';
			message = `${TOKEN_ERROR_PREFIX}: n8n could not reach ${api} (${answer.message}). Check the credential's ${check}, and that n8n can reach DingTalk from where it runs.`;
		}
		const token = answer.kind === 'ok' ? answer.body.accessToken : undefined;
		if (answer.kind === 'ok' && typeof token === 'string' && token) {
			return { accessToken: token, renewAt: renewAfter(answer.body.expireIn, clock.now()) };
		}
		// An ok answer without a token is not DingTalk's: lost, as any other such body.
		const failure = redactSecrets(answer.kind === 'ok' ? { ...answer, kind: 'lost' as const } : answer, secretsOf(credentials));
		throw new DingTalkTokenError(redactSecrets(message, secretsOf(credentials)), failure);
	};
}

const INTERNAL = { appType: ['internal'] };
const THIRD_PARTY = { appType: ['thirdParty'] };
const CUSTOM = { environment: ['custom'] };

/** A text field the credential needs when `show` holds (an App Type, the Custom environment). */
function requiredField(show: Record<string, string[]>, displayName: string, name: string, more: Partial<INodeProperties> = {}): INodeProperties {
	return { displayName, name, type: 'string', default: '', required: true, displayOptions: { show }, ...more };
}

export class DingTalkApi implements ICredentialType {
	name = 'dingTalkApi';
	displayName = 'DingTalk API';

	icon: Icon = {
		light: 'file:../nodes/DingTalkRecallMessage/dingtalk.svg',
		dark: 'file:../nodes/DingTalkRecallMessage/dingtalk.dark.svg',
	};

	documentationUrl = 'https://github.com/n8n-nodes-dingtalk-recall/n8n-nodes-dingtalk-recall#credential';

	properties: INodeProperties[] = [
		{
			displayName: 'App Type',
			name: 'appType',
			type: 'options',
			options: [
				{ name: 'Internal App', value: 'internal', description: 'An app your organisation created in the DingTalk developer console' },
				{ name: 'Third-Party Enterprise App', value: 'thirdParty', description: 'An app from an ISV, authorised by your organisation' },
			],
			default: 'internal',
		},
		requiredField(INTERNAL, 'Client ID (AppKey)', 'clientId', {
			description: 'The Client ID (formerly AppKey) on the app\'s "Credentials & Basic Info" page',
		}),
		requiredField(INTERNAL, 'Client Secret (AppSecret)', 'clientSecret', {
			typeOptions: { password: true },
			description: 'The Client Secret (formerly AppSecret) on the same page',
		}),
		requiredField(THIRD_PARTY, 'Suite Key', 'suiteKey'),
		requiredField(THIRD_PARTY, 'Suite Secret', 'suiteSecret', { typeOptions: { password: true } }),
		requiredField(THIRD_PARTY, 'Authorised Corp ID', 'authCorpId', { description: 'The CorpId of the organisation that authorised the app' }),
		requiredField(THIRD_PARTY, 'Suite Ticket', 'suiteTicket', {
			typeOptions: { password: true },
			description: 'The latest suite ticket DingTalk pushed to your app',
		}),
		{
			displayName: 'Environment',
			name: 'environment',
			type: 'options',
			options: [
				{ name: 'China (api.dingtalk.com)', value: 'china', description: 'Almost every DingTalk organisation' },
				{ name: 'Global (api.dingtalk.io)', value: 'global', description: "Organisations on DingTalk's overseas platform" },
				{ name: 'Custom', value: 'custom', description: 'A proxy, a private deployment or a test server' },
			],
			default: 'china',
		},
		requiredField(CUSTOM, 'API Base URL', 'apiBaseUrl', {
			placeholder: 'https://api.dingtalk.com',
			description: 'Base URL of the new-style API (paths starting with /v1.0/)',
		}),
		requiredField(CUSTOM, 'OAPI Base URL', 'oapiBaseUrl', {
			placeholder: 'https://oapi.dingtalk.com',
			description: 'Base URL of the old-style API (paths starting with /topapi/)',
		}),
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
	preAuthentication: ICredentialType['preAuthentication'];

	/** `clock` is what dates a token's renewal: the system's in n8n, a simulated one in tests. */
	constructor(private readonly clock: Clock = systemClock) {
		this.preAuthentication = requestToken(clock);
	}

	/** One token, a header on the new-style host and a query parameter on the old; a due token is refused to the HTTP Request node's helper, which then renews it. */
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		// n8n has the token it was asked for (the node's renewal): nothing else is to be sent.
		if (requestOptions.headers?.[TOKEN_ONLY_HEADER]) throw new DingTalkTokenReady();
		const token = String(credentials.accessToken ?? '');
		const { uri } = requestOptions as IHttpRequestOptions & { uri?: unknown };
		const url = `${requestOptions.baseURL ?? ''}${requestOptions.url ?? String(uri ?? '')}`;
		// The token API itself (the credential's Test button) needs no token.
		if (uri !== undefined && token && tokenDue(credentials, this.clock.now()) && !url.includes('/oauth2/')) {
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
