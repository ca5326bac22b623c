import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

/** The two DingTalk hosts a credential talks to: new-style `/v1.0/` APIs and old-style `/topapi/` APIs. */
export interface DingTalkBaseUrls {
	api: string;
	oapi: string;
}

const ENVIRONMENT_HOSTS = new Map<string, DingTalkBaseUrls>([
	['china', { api: 'https://api.dingtalk.com', oapi: 'https://oapi.dingtalk.com' }],
	['global', { api: 'https://api.dingtalk.io', oapi: 'https://oapi.dingtalk.io' }],
]);

function trimTrailingSlashes(url: string): string {
	return url.trim().replace(/\/+$/, '');
}

export function dingTalkBaseUrls(credentials: ICredentialDataDecryptedObject): DingTalkBaseUrls {
	const environment = String(credentials.environment ?? 'china');
	if (environment === 'custom') {
		return {
			api: trimTrailingSlashes(String(credentials.apiBaseUrl ?? '')),
			oapi: trimTrailingSlashes(String(credentials.oapiBaseUrl ?? '')),
		};
	}
	return ENVIRONMENT_HOSTS.get(environment) ?? ENVIRONMENT_HOSTS.get('china')!;
}

/** A base URL of the credential that no call can go to: the node's code, what is wrong, and what to fix. */
export type BaseUrlProblem = { code: 'missingBaseUrl' | 'invalidBaseUrl'; problem: string; fix: string };

const BASE_URL_FIELDS: Record<keyof DingTalkBaseUrls, string> = { api: 'API Base URL', oapi: 'OAPI Base URL' };

/** What is wrong with the credential's base URLs (only a Custom environment has its own), if anything. */
export function baseUrlProblem(credentials: ICredentialDataDecryptedObject): BaseUrlProblem | undefined {
	const fix = 'Open the credential and fill in API Base URL and OAPI Base URL (for DingTalk China: https://api.dingtalk.com and https://oapi.dingtalk.com).';
	for (const [host, url] of Object.entries(dingTalkBaseUrls(credentials)) as Array<[keyof DingTalkBaseUrls, string]>) {
		const field = BASE_URL_FIELDS[host];
		if (!url) return { code: 'missingBaseUrl', problem: `The DingTalk API credential has no base URL for its Custom environment: its ${field} is empty.`, fix };
		if (!/^https?:\/\/[^/\s]+/i.test(url)) return { code: 'invalidBaseUrl', problem: `The DingTalk API credential's ${field} "${url}" is not an http or https address.`, fix };
	}
	return undefined;
}

/** Where the credential's app gets its access token: `accessToken` for an internal app, `corpAccessToken` for a third-party one. */
export function tokenUrl(credentials: ICredentialDataDecryptedObject): string {
	const path = credentials.appType === 'thirdParty' ? 'corpAccessToken' : 'accessToken';
	return `${dingTalkBaseUrls(credentials).api}/v1.0/oauth2/${path}`;
}

/** `url` is `base` or lies under it. */
function isUnder(url: string, base: string): boolean {
	return base !== '' && (url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`));
}

/** The host a URL goes to, so how the token travels: the base URL it lies under (the longer one), else its path (`/v1.0/…` is new-style). */
export function hostOf(credentials: ICredentialDataDecryptedObject, url: string): keyof DingTalkBaseUrls {
	const { api, oapi } = dingTalkBaseUrls(credentials);
	const underApi = isUnder(url, api);
	const underOapi = isUnder(url, oapi);
	if (underApi !== underOapi) return underApi ? 'api' : 'oapi';
	if (underApi && api.length !== oapi.length) return api.length > oapi.length ? 'api' : 'oapi';
	return /\/v\d+\.\d+\//.test(url) ? 'api' : 'oapi';
}
