import type { ICredentialDataDecryptedObject, IExecuteFunctions } from 'n8n-workflow';

import type { DingTalkBaseUrls } from '../../../credentials/DingTalkHosts';
import { dingTalkBaseUrls, tokenUrl } from '../../../credentials/DingTalkHosts';
import { currentClock } from '../../../credentials/DingTalkClock';
import type { Answer } from '../../../credentials/DingTalkAnswers';
import type { DingTalkCall, StoredCredential } from './http';
import { callUrl, sendOnce, stoppedAnswer } from './http';
import { appIdentity, sharedPacer } from './pacer';
import type { RetrySettings } from './retryPolicy';
import { RetryPolicy } from './retryPolicy';
import { TokenSession } from './tokenSession';

export type { Answer } from '../../../credentials/DingTalkAnswers';
export type { DingTalkCall } from './http';
export { CREDENTIAL_TYPE } from './http';

export interface ClientSettings extends RetrySettings {
	timeoutMs: number;
}

/**
 * Talks to DingTalk for one node run: each call waits for its turn with the app's shared pacer, goes with
 * a fresh token (the session), and is repeated after faults and throttling (the retry policy). Once the
 * execution is stopped, no call starts and nothing more is repeated.
 */
export class DingTalkClient {
	readonly baseUrls: DingTalkBaseUrls;

	/** Who DingTalk counts the calls against (never a secret): the pacers are shared per app. */
	private readonly appIdentity: string;

	private readonly retry: RetryPolicy;

	private readonly session: TokenSession;

	private readonly signal?: AbortSignal;

	/** `credentials` is the credential as the run read it; the session reads it again only to renew the token. */
	constructor(
		private readonly context: IExecuteFunctions,
		credentials: ICredentialDataDecryptedObject,
		private readonly settings: ClientSettings,
	) {
		// The process's clock, which the shared pacers read too (tests put a simulated one in).
		const clock = currentClock();
		this.baseUrls = dingTalkBaseUrls(credentials);
		this.appIdentity = appIdentity(credentials);
		this.signal = context.getExecutionCancelSignal?.();
		this.retry = new RetryPolicy(settings, clock, this.signal);
		const tokenPacer = sharedPacer(this.appIdentity, tokenUrl(credentials));
		this.session = new TokenSession(context, credentials, this.baseUrls.api, clock, this.retry, tokenPacer);
	}

	/**
	 * Sends a call until its answer is final: ok, refused, a configuration error, the stop, or a fault that
	 * outlasted the retries. `hear` gets every attempt's answer, the lost ones too: DingTalk may have done
	 * what a lost attempt asked. With `once`, the call is sent once (a rejected token is still renewed): for
	 * questions such as a read status, whose answer only confirms what a recall call may have done.
	 */
	async call(call: DingTalkCall, { once = false, hear }: { once?: boolean; hear?: (answer: Answer) => void } = {}): Promise<Answer> {
		const send = async () => {
			const answer = await this.session.send(async (credential) => await this.sendPaced(call, credential));
			hear?.(answer);
			return answer;
		};
		return once ? await send() : await this.retry.run(send);
	}

	/** How many times a passing fault is repeated (the node's Retries option). */
	get maxRetries(): number {
		return this.settings.maxRetries;
	}

	/** The user stopped the execution. */
	get stopped(): boolean {
		return this.retry.stopped;
	}

	/** The wait before the `attempt`-th repeat after a passing fault. */
	async waitBeforeRepeat(attempt: number): Promise<void> {
		await this.retry.waitBeforeRepeat(attempt);
	}

	/** One attempt, in its turn: every execution of this process calling this app's API waits on the same pacer. */
	private async sendPaced(call: DingTalkCall, credential: StoredCredential): Promise<Answer> {
		const pacer = sharedPacer(this.appIdentity, callUrl(this.baseUrls, call));
		const ticket = await pacer.acquire(this.signal);
		if (ticket === undefined) return stoppedAnswer(false);
		const answer = await sendOnce(this.context, this.baseUrls, call, credential, this.settings.timeoutMs);
		// What DingTalk never saw teaches the pacer nothing; a call whose answer was lost still takes its room.
		if (answer.kind === 'tokenUnavailable' || answer.kind === 'cancelled') pacer.abandon(ticket);
		else if (answer.kind === 'lost') pacer.cutShort(ticket);
		else if (answer.kind === 'throttled') return pacer.throttled(ticket) ? { ...answer, probeRefused: true } : answer;
		else pacer.admitted(ticket);
		return answer;
	}
}
