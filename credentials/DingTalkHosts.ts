import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

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
