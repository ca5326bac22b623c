import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

/** Every error the credential throws while getting a token starts with this, so the node can tell it from a failed call. */
export const ACCESS_TOKEN_ERROR_PREFIX = 'Could not get a DingTalk access token';

/**
 * What the credential throws, before any request goes out, when the stored token is about to expire. n8n's
 * legacy request helper (the HTTP Request node's) renews a token only after a failed request, and DingTalk's
 * oapi host answers an expired token with HTTP 200: this error is the failure that makes it renew in time.
 */
export const ACCESS_TOKEN_DUE_MESSAGE = 'The stored DingTalk access token is due for renewal';

/** The two DingTalk hosts a credential talks to: new-style `/v1.0/` APIs and old-style `/topapi/` APIs. */
export interface DingTalkBaseUrls {
	api: string;
	oapi: string;
}

const ENVIRONMENT_HOSTS: Record<string, DingTalkBaseUrls> = {
	china: { api: 'https://api.dingtalk.com', oapi: 'https://oapi.dingtalk.com' },
	global: { api: 'https://api.dingtalk.io', oapi: 'https://oapi.dingtalk.io' },
};

function trimTrailingSlashes(url: string): string {
	return url.trim().replace(/\/+$/, '');
}

export function dingTalkBaseUrls(credentials: ICredentialDataDecryptedObject): DingTalkBaseUrls {
	const environment = (credentials.environment as string | undefined) ?? 'china';
	if (environment === 'custom') {
		return {
			api: trimTrailingSlashes(String(credentials.apiBaseUrl ?? '')),
			oapi: trimTrailingSlashes(String(credentials.oapiBaseUrl ?? '')),
		};
	}
	return ENVIRONMENT_HOSTS[environment] ?? ENVIRONMENT_HOSTS.china;
}

/** New-style APIs are versioned (`/v1.0/...`) and take the token as a header; old-style ones take it in the query. */
export function isNewStyleApiUrl(url: string): boolean {
	return /\/v\d+\.\d+\//.test(url);
}
