import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import type { Answer } from '../../../credentials/DingTalkAnswers';
import type { Clock } from '../../../credentials/DingTalkClock';
import { untilStopped } from '../../../credentials/DingTalkClock';
import { tokenDue } from '../../../credentials/DingTalkTokenRenewal';
import { TEXTS } from '../texts';
import type { RetryPolicy } from './retryPolicy';

/** After a renewal ahead of expiry failed for a moment, the token in hand serves this much longer (it lasts minutes more). */
const RENEW_AGAIN_AFTER_MS = 30_000;

/** One call is refused on its token at most this often: then the setup is wrong, not the token. */
const MOST_REFUSALS = 4;

/** A token, and when it is due for renewal (`renewAt`, as the credential stores it). */
export interface HeldToken {
	token: string;
	renewAt: number;
}

/**
 * Where the process's token of one app and host stands (docs/reliability.md, "The token"):
 * - `none`: no token yet, and `refused`: DingTalk refused it; the next call has n8n get a new one;
 * - `stored`: read from n8n's storage, and `issued`: got right after a refusal; the next call tries it alone;
 * - `ready`: DingTalk issued or accepted it; every call goes with it;
 * - `settling`: one call renews or tries the token; the others wait for it.
 */
export type TokenState =
	| { kind: 'none' }
	| { kind: 'refused'; token: string }
	| ({ kind: 'stored' } & HeldToken)
	| ({ kind: 'issued' } & HeldToken)
	| ({ kind: 'ready' } & HeldToken)
	| { kind: 'settling'; settled: Promise<Answer | undefined> };

export interface TokenSlot {
	state: TokenState;
}

/** n8n's side of the token: get a new one and store it (no answer when it did), and read what is stored. */
export interface TokenStore {
	renew: () => Promise<Answer | undefined>;
	read: () => Promise<ICredentialDataDecryptedObject>;
}

function held(data: ICredentialDataDecryptedObject): HeldToken | undefined {
	return typeof data.accessToken === 'string' && data.accessToken ? { token: data.accessToken, renewAt: Number(data.renewAt ?? 0) } : undefined;
}

/**
 * One run's use of its app's process token: one renewal at a time in the process, which every waiting
 * call shares, whatever execution it belongs to. A call the renewal's failure ends here goes no further;
 * the waiting calls of other executions try for themselves, unless DingTalk refused the keys.
 */
export class TokenSession {
	/** Why no token can be had in this run, once that is settled. */
	private failure?: Answer;

	constructor(
		private readonly slot: TokenSlot,
		private readonly store: TokenStore,
		private readonly clock: Clock,
		private readonly retry: RetryPolicy,
		private readonly signal: AbortSignal | undefined,
		stored: ICredentialDataDecryptedObject,
	) {
		// A run whose stored token is newer than the process's brings it: another worker renewed it.
		const { state } = slot;
		const offered = held(stored);
		if (!offered || state.kind === 'settling' || ('token' in state && state.token === offered.token)) return;
		if (state.kind === 'none' || state.kind === 'refused' || offered.renewAt > state.renewAt) slot.state = { kind: 'stored', ...offered };
	}

	/** Sends a call with the process's token: renewed first where needed, and again when DingTalk refuses it. */
	async send(sendWith: (token: HeldToken) => Promise<Answer>): Promise<Answer> {
		for (let refusals = 0; ; ) {
			if (this.signal?.aborted) return { kind: 'cancelled', code: 'cancelled', message: 'the execution was stopped before the call went' };
			if (this.failure) return this.failure;
			const { state } = this.slot;
			if (state.kind === 'settling') {
				const settled = await untilStopped(state.settled, this.signal);
				if (settled !== 'stopped' && settled) this.failure = settled;
				continue;
			}
			if (state.kind === 'none' || state.kind === 'refused' || tokenDue({ accessToken: state.token, renewAt: state.renewAt }, this.clock.now())) {
				await this.settle(async () => await this.renew(state));
				continue;
			}
			const answer = state.kind === 'ready' ? await sendWith(state) : await this.settle(async () => await this.tryAlone(state, sendWith));
			if (answer.kind !== 'tokenRejected') return answer;
			// Dropped only if still the one in use: another call may have renewed it already.
			if (this.slot.state.kind === 'ready' && this.slot.state.token === state.token) this.slot.state = { kind: 'refused', token: state.token };
			if (++refusals === MOST_REFUSALS) this.failure ??= { ...answer, kind: 'configuration', scope: 'app', text: TEXTS.freshTokenRejected };
		}
	}

	/** Runs `work` while the other calls wait; they take up a configuration error it ends with, and look again otherwise. */
	private async settle<T>(work: () => Promise<T>): Promise<T> {
		let resolve: (failure?: Answer) => void = () => {};
		const before = this.slot.state;
		this.slot.state = { kind: 'settling', settled: new Promise((done) => (resolve = done)) };
		try {
			return await work();
		} finally {
			if (this.slot.state.kind === 'settling') this.slot.state = before;
			resolve(this.failure?.kind === 'configuration' && this.failure.code !== 'credentialUnavailable' ? this.failure : undefined);
		}
	}

	/** The first call with a token DingTalk has not accepted here goes alone; a token issued right after a refusal, refused too, means the setup is wrong. */
	private async tryAlone(token: HeldToken & { kind: 'stored' | 'issued' }, sendWith: (token: HeldToken) => Promise<Answer>): Promise<Answer> {
		const answer = await sendWith(token);
		if (answer.kind === 'tokenRejected') {
			this.slot.state = { kind: 'refused', token: token.token };
			if (token.kind === 'issued') this.failure = { ...answer, kind: 'configuration', scope: 'app', text: TEXTS.freshTokenRejected };
		} else if (answer.kind !== 'cancelled' && answer.kind !== 'tokenUnavailable') {
			this.slot.state = { kind: 'ready', token: token.token, renewAt: token.renewAt };
		}
		return answer;
	}

	/** Has n8n get a new token and store it for later runs and other workers, unless one of them stored a good one meanwhile. */
	private async renew(state: Exclude<TokenState, { kind: 'settling' }>): Promise<void> {
		const inHand = state.kind === 'stored' || state.kind === 'issued' || state.kind === 'ready' ? state : undefined;
		const stored = await this.read();
		const storedToken = stored && held(stored);
		const stale = [inHand?.token, state.kind === 'refused' ? state.token : undefined];
		if (!stored || (storedToken && !stale.includes(storedToken.token) && !tokenDue(stored, this.clock.now()))) {
			if (storedToken) this.slot.state = { kind: 'stored', ...storedToken };
			return;
		}
		for (const repeats = { faults: 0, throttles: 0 }; ; ) {
			const failed = await untilStopped(this.store.renew(), this.signal);
			if (failed === 'stopped' || this.signal?.aborted) return;
			const renewed = failed ? undefined : held((await this.read()) ?? {});
			if (renewed) return void (this.slot.state = { kind: state.kind === 'refused' ? 'issued' : 'ready', ...renewed });
			if (!failed) return void (this.failure ??= { kind: 'configuration', scope: 'app', code: 'credentialUnavailable', message: TEXTS.tokenNotStored });
			const tokenAnswer = failed.kind === 'tokenUnavailable' ? failed.tokenAnswer : failed;
			const passing = tokenAnswer.kind === 'throttled' || tokenAnswer.kind === 'failed' || tokenAnswer.kind === 'lost';
			// Ahead of expiry, the token in hand serves while the token API fails for a moment.
			if (passing && inHand) return void (this.slot.state = { ...inHand, renewAt: this.clock.now() + RENEW_AGAIN_AFTER_MS });
			if (await this.retry.waitToRepeat(tokenAnswer, repeats)) continue;
			if (this.signal?.aborted) return;
			const unreachable = tokenAnswer.kind === 'failed' && tokenAnswer.code === 'network';
			this.failure =
				passing && !unreachable
					? { ...failed, kind: 'tokenUnavailable', tokenAnswer, message: TEXTS.tokenUnavailable(failed.message) }
					: { kind: 'configuration', scope: 'app', code: tokenAnswer.code, message: failed.message, requestId: tokenAnswer.requestId };
			return;
		}
	}

	/** The stored credential, or nothing once this run's failure says n8n could not read it. */
	private async read(): Promise<ICredentialDataDecryptedObject | undefined> {
		try {
			return await this.store.read();
		} catch (error) {
			this.failure = { kind: 'configuration', scope: 'app', code: 'credentialUnavailable', message: TEXTS.credentialUnreadable((error as Error).message) };
			return undefined;
		}
	}
}
