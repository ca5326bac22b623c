import type { ICredentialDataDecryptedObject, IExecuteFunctions } from 'n8n-workflow';

import type { Answer } from '../../../credentials/DingTalkAnswers';
import type { DingTalkBaseUrls } from '../../../credentials/DingTalkHosts';
import { dingTalkBaseUrls, tokenUrl } from '../../../credentials/DingTalkHosts';
import type { DingTalkCall } from './http';
import { callUrl, CREDENTIAL_TYPE, requestNewToken, sendOnce, stoppedAnswer } from './http';
import type { Hearing } from './pacer';
import type { DingTalkProcess } from './process';
import { appIdentity } from './process';
import type { RetrySettings } from './retryPolicy';
import { RetryPolicy } from './retryPolicy';
import type { HeldToken } from './tokenSession';
import { TokenSession } from './tokenSession';

export type { Answer } from '../../../credentials/DingTalkAnswers';
export type { DingTalkCall } from './http';
export { CREDENTIAL_TYPE } from './http';
export type { DingTalkProcess } from './process';
export { thisProcess } from './process';

export type ClientSettings = RetrySettings & { timeoutMs: number };

/** The token a credential holds, if any. */
function heldToken(data: ICredentialDataDecryptedObject): HeldToken | undefined {
	return typeof data.accessToken === 'string' && data.accessToken ? { token: data.accessToken, renewAt: Number(data.renewAt ?? 0) } : undefined;
}

/** Refused probes one call repeats at once: DingTalk refused the pacer's try for more room, not the call. */
const MOST_REFUSED_PROBES = 8;

/** What a paced call's answer tells its pacer. */
function pacerHears(answer: Answer): Hearing {
	if (answer.kind === 'tokenUnavailable' || answer.kind === 'cancelled') return 'neverSent';
	if (answer.kind === 'lost') return 'cutShort';
	return answer.kind === 'throttled' ? 'throttled' : 'admitted';
}

/** Talks to DingTalk for one node run: paced, with the process's token, repeated as the retry policy says, until the stop. */
export class DingTalkClient {
	readonly baseUrls: DingTalkBaseUrls;
	private readonly appIdentity: string;
	private readonly retry: RetryPolicy;
	private readonly session: TokenSession;
	private readonly signal?: AbortSignal;

	/** `credentials` is the credential as the run read it; the session reads it again only to renew the token. */
	constructor(
		private readonly context: IExecuteFunctions,
		readonly credentials: ICredentialDataDecryptedObject,
		private readonly settings: ClientSettings,
		private readonly process: DingTalkProcess,
	) {
		this.baseUrls = dingTalkBaseUrls(credentials);
		this.appIdentity = appIdentity(credentials);
		this.signal = context.getExecutionCancelSignal?.();
		this.retry = new RetryPolicy(settings, process.clock, this.signal);
		const store = {
			renew: async () => await requestNewToken(context, tokenUrl(credentials), credentials),
			read: async () => heldToken(await context.getCredentials(CREDENTIAL_TYPE)),
		};
		const slot = process.token(credentials, this.baseUrls.api);
		this.session = new TokenSession(slot, store, process.clock, this.retry, this.signal, heldToken(credentials));
	}

	/**
	 * Sends a call until its answer is final; `hear` gets every attempt's, lost ones too (DingTalk may have acted).
	 * `once`: a question, sent once; `onlyUnsent`: a send, repeated only where DingTalk did not carry it out.
	 */
	async call(call: DingTalkCall, { once = false, onlyUnsent = false, hear }: { once?: boolean; onlyUnsent?: boolean; hear?: (answer: Answer) => void } = {}): Promise<Answer> {
		const send = async () => {
			const answer = await this.session.send(async (inUse) => await this.sendPaced(call, inUse));
			hear?.(answer);
			return answer;
		};
		return once ? await send() : await this.retry.run(send, onlyUnsent);
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

	/** One attempt in its turn on the app's pacer for this API, with the token in use then (none: it does not go); a refused probe goes again at once, in its turn. */
	private async sendPaced(call: DingTalkCall, inUse: () => HeldToken | undefined): Promise<Answer | undefined> {
		const pacer = this.process.pacer(this.appIdentity, callUrl(this.baseUrls, call));
		for (let refusedProbes = 0; ; refusedProbes++) {
			const ticket = await pacer.acquire(this.signal);
			if (ticket === undefined) return stoppedAnswer(false);
			const held = inUse();
			if (!held) return void pacer.heard(ticket, 'neverSent');
			const answer = await sendOnce(this.context, this.baseUrls, call, { ...this.credentials, accessToken: held.token, renewAt: held.renewAt }, this.settings.timeoutMs);
			const probeRefused = pacer.heard(ticket, pacerHears(answer));
			// Only over the per-second limit: a ban, a busy DingTalk or a per-minute limit is waited out as ever.
			if (!(probeRefused && answer.kind === 'throttled' && answer.perSecond && refusedProbes < MOST_REFUSED_PROBES)) return answer;
		}
	}
}
