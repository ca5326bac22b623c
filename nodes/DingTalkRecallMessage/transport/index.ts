import type {
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	IN8nHttpFullResponse,
} from 'n8n-workflow';
import { sleep } from 'n8n-workflow';

import type { DingTalkBaseUrls } from '../../../credentials/DingTalkHosts';
import {
	ACCESS_TOKEN_DUE_MESSAGE,
	ACCESS_TOKEN_ERROR_PREFIX,
	dingTalkBaseUrls,
} from '../../../credentials/DingTalkHosts';
import type { Answer } from './errors';
import { classifyApiAnswer, classifyOapiAnswer, classifyRequestFailure, isPerSecondLimit } from './errors';
import type { Pacer } from './pacer';
import { appIdentity, sharedPacer } from './pacer';

export const CREDENTIAL_TYPE = 'dingTalkApi';

/** The credential as n8n hands it to its HTTP helper (`credentialsDecrypted`). */
interface StoredCredential {
	id: string;
	name: string;
	type: string;
	data: ICredentialDataDecryptedObject;
}

export interface DingTalkCall {
	host: 'api' | 'oapi';
	path: string;
	/** POST unless said otherwise (read status of a one-on-one message is a GET). */
	method?: 'GET' | 'POST';
	/** Query parameters; n8n's helper URL-encodes them (processQueryKeys are base64 with `+`, `/`, `=`). */
	qs?: Record<string, string>;
	/** A JSON body (`api` host). */
	json?: Record<string, unknown>;
	/** A form-urlencoded body (`oapi` host), as DingTalk's own example sends it. */
	form?: Record<string, string>;
}

export interface ClientSettings {
	timeoutMs: number;
	/** Repeats after a passing fault (5xx, timeout, dropped connection, a body that is not JSON). */
	maxRetries: number;
	/** Repeats after a throttling answer, each after a growing wait. */
	maxThrottleRetries: number;
	/** First wait after a fault, in milliseconds; doubles with each repeat. */
	retryDelayMs: number;
}

const MAX_WAIT_MS = 8_000;

/** Full jitter: somewhere between half and all of an exponentially growing wait. */
export function backoffMs(attempt: number, baseMs: number): number {
	const ceiling = Math.min(MAX_WAIT_MS, baseMs * 2 ** Math.max(0, attempt - 1));
	return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** The credential's own error message in an error n8n's helper wrapped, if it starts with `prefix`. */
function credentialMessage(error: unknown, prefix: string): string | undefined {
	let current: unknown = error;
	for (let depth = 0; current && depth < 6; depth++) {
		const message = (current as { message?: unknown }).message;
		if (typeof message === 'string' && message.startsWith(prefix)) return message;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

/**
 * Talks to DingTalk for one node run: sends each call with the credential through n8n's helpers,
 * paces it with every other execution in the process that calls the same app's API, repeats after
 * faults and throttling, and renews a rejected token once, shared by all calls that failed on it together.
 */
export class DingTalkClient {
	private tokenGeneration = 0;

	private renewal?: Promise<Answer>;

	private credential: Promise<StoredCredential>;

	/**
	 * The run's first call goes alone: on a credential with no token, or an expired one, it is the one
	 * that fetches a token, and the calls after it use that token instead of each fetching their own.
	 */
	private firstCall?: Promise<Answer>;

	readonly baseUrls: DingTalkBaseUrls;

	/** Who DingTalk counts the calls against (never a secret): the pacers are shared per app. */
	private readonly appIdentity: string;

	/** `credentials` is the credential as the run read it; the client reads it again only to renew the token. */
	constructor(
		private readonly context: IExecuteFunctions,
		credentials: ICredentialDataDecryptedObject,
		private readonly settings: ClientSettings,
	) {
		this.baseUrls = dingTalkBaseUrls(credentials);
		this.appIdentity = appIdentity(credentials);
		this.credential = Promise.resolve(this.asStored(credentials));
	}

	/**
	 * Sends a call until its answer is final: ok, refused, a configuration error, or a fault that outlasted
	 * the retries. With `once`, the call is sent once (a rejected token is still renewed): for questions
	 * such as a read status, whose answer only confirms what a recall call may have done.
	 */
	async call(call: DingTalkCall, { once = false } = {}): Promise<Answer> {
		const send = async () => (once ? await this.sendWithFreshToken(call) : await this.callWithRetries(call));
		if (!this.firstCall) {
			this.firstCall = send();
			return await this.firstCall;
		}
		const first = await this.firstCall;
		// The first call could not get a token: the others would fail the same way, one token request each.
		if (first.kind === 'configuration' && first.code === 'accessTokenUnavailable') return first;
		return await send();
	}

	/** How many times a passing fault is repeated (the node's Retries option). */
	get maxRetries(): number {
		return this.settings.maxRetries;
	}

	/** The wait before the `attempt`-th repeat after a passing fault. */
	async waitBeforeRepeat(attempt: number): Promise<void> {
		await sleep(backoffMs(attempt, this.settings.retryDelayMs));
	}

	private async callWithRetries(call: DingTalkCall): Promise<Answer> {
		let faults = 0;
		let throttles = 0;
		for (;;) {
			const answer = await this.sendWithFreshToken(call);
			if (answer.kind === 'throttled' && throttles < this.settings.maxThrottleRetries) {
				throttles++;
				// Over the per-second limit once: the pacer has learned the rate and holds the repeat until
				// there is room. Anything else (busy, banned, per-minute limits, again and again): back off.
				if (!(throttles === 1 && isPerSecondLimit(answer.code))) {
					const hinted = answer.waitSeconds ? Math.min(answer.waitSeconds * 1000, 30_000) : 0;
					await sleep(Math.max(hinted, backoffMs(throttles, 1000)));
				}
				continue;
			}
			if (answer.kind === 'transient' && faults < this.settings.maxRetries) {
				faults++;
				await this.waitBeforeRepeat(faults);
				continue;
			}
			return answer;
		}
	}

	/**
	 * DingTalk rejects an expired token with 400 or errcode 40001…, never the 401 after which n8n renews
	 * it. So on such an answer the first call renews the token and the calls that failed with it wait for
	 * that one renewal, then each is repeated once.
	 */
	private async sendWithFreshToken(call: DingTalkCall): Promise<Answer> {
		const generation = this.tokenGeneration;
		const answer = await this.send(call);
		if (answer.kind !== 'tokenRejected') return answer;

		let retried: Answer;
		if (generation === this.tokenGeneration && !this.renewal) {
			this.renewal = this.renewAndSend(call).finally(() => {
				this.tokenGeneration++;
				this.renewal = undefined;
			});
			retried = await this.renewal;
		} else {
			if (this.renewal) await this.renewal;
			retried = await this.send(call);
		}
		if (retried.kind !== 'tokenRejected') return retried;
		return {
			...retried,
			kind: 'configuration',
			code: 'accessTokenUnavailable',
			message: `DingTalk rejected a freshly issued access token (${retried.code}: ${retried.message}).`,
		};
	}

	/**
	 * Gets a new token through n8n's credential mechanism, so that n8n stores it for later runs and other
	 * workers: handed the credential with an empty token, n8n runs its preAuthentication, stores the
	 * result, and writes the token into the credential it was handed. If another execution has stored a
	 * new token in the meantime, that one is used instead.
	 */
	private async renewAndSend(call: DingTalkCall): Promise<Answer> {
		const rejected = (await this.currentCredential()).data.accessToken;
		const stored = await this.storedCredential();
		if (stored.data.accessToken && stored.data.accessToken !== rejected) {
			this.credential = Promise.resolve(stored);
			return await this.send(call);
		}
		const renewing = { ...stored, data: { ...stored.data, accessToken: '' } };
		const answer = await this.send(call, renewing);
		if (renewing.data.accessToken) this.credential = Promise.resolve(renewing);
		return answer;
	}

	private async storedCredential(): Promise<StoredCredential> {
		return this.asStored(await this.context.getCredentials(CREDENTIAL_TYPE));
	}

	private asStored(data: ICredentialDataDecryptedObject): StoredCredential {
		const reference = this.context.getNode().credentials?.[CREDENTIAL_TYPE];
		return { id: reference?.id ?? '', name: reference?.name ?? '', type: CREDENTIAL_TYPE, data: { ...data } };
	}

	/**
	 * The credential, read once per run and handed to n8n's helper with every call instead of n8n reading
	 * and decrypting it again for each. When the token is empty, n8n's preAuthentication writes the new one
	 * into this same object, so the calls after the first use it.
	 */
	private async currentCredential(): Promise<StoredCredential> {
		return await this.credential;
	}

	/** Every execution of this process calling this app's API waits on the same pacer. */
	private pacerFor(call: DingTalkCall): Pacer {
		return sharedPacer(this.appIdentity, `${this.baseUrls[call.host]}${call.path}`);
	}

	private async send(call: DingTalkCall, credential?: StoredCredential): Promise<Answer> {
		const pacer = this.pacerFor(call);
		const ticket = await pacer.acquire();

		const request: IHttpRequestOptions = {
			method: call.method ?? 'POST',
			url: `${this.baseUrls[call.host]}${call.path}`,
			qs: call.qs,
			timeout: this.settings.timeoutMs,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
		};
		if (call.form) {
			request.headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
			request.body = new URLSearchParams(call.form).toString();
		} else {
			request.json = true;
			if (call.json) request.body = call.json;
		}

		let answer: Answer;
		try {
			const response = (await this.context.helpers.httpRequestWithAuthentication.call(
				this.context,
				CREDENTIAL_TYPE,
				request,
				{ credentialsDecrypted: credential ?? (await this.currentCredential()) },
			)) as IN8nHttpFullResponse;
			answer = (call.host === 'api' ? classifyApiAnswer : classifyOapiAnswer)(
				response.statusCode,
				response.body,
			);
		} catch (error) {
			const tokenFailure = credentialMessage(error, ACCESS_TOKEN_ERROR_PREFIX);
			if (tokenFailure) {
				answer = { kind: 'configuration', code: 'accessTokenUnavailable', message: tokenFailure };
			} else if (credentialMessage(error, ACCESS_TOKEN_DUE_MESSAGE)) {
				// Nothing was sent: renew the token as if DingTalk had rejected it.
				answer = { kind: 'tokenRejected', code: 'accessTokenDue', message: ACCESS_TOKEN_DUE_MESSAGE };
			} else {
				answer = classifyRequestFailure(error);
			}
		}
		if (answer.kind === 'throttled') pacer.throttled(ticket);
		else pacer.admitted(ticket);
		return answer;
	}
}
