import type { Answer } from '../../../credentials/DingTalkAnswers';
import type { Clock } from '../../../credentials/DingTalkClock';
import { untilStopped } from '../../../credentials/DingTalkClock';
import { TEXTS } from '../texts';
import type { RetryPolicy } from './retryPolicy';

/** After a renewal ahead of expiry failed for a moment, the token in hand serves this much longer (it lasts minutes more). */
const RENEW_AGAIN_AFTER_MS = 30_000;
/** One call is refused on its token at most this often: then the setup is wrong, not the token. */
const MOST_REFUSALS = 4;

/** A token, and when it is due for renewal (`renewAt`, as the credential stores it). */
export type HeldToken = { token: string; renewAt: number };

/** Where the process's token of one app and host stands; its states and moves: docs/core.md, "The token". */
export type TokenState =
	| { kind: 'none' }
	| { kind: 'refused'; token: string }
	| ({ kind: 'stored' } & HeldToken)
	| ({ kind: 'issued' } & HeldToken)
	| ({ kind: 'ready' } & HeldToken)
	| { kind: 'settling'; settled: Promise<Answer | undefined> };

/** The process's token of one app and host: every session of it reads and moves the same state. */
export type TokenSlot = { state: TokenState };

/** Sends one call once its turn comes, with the token `token` gives then: none (the call does not go) while the token changes hands. */
export type SendWith = (token: () => HeldToken | undefined) => Promise<Answer | undefined>;

/** n8n's side of the token: get a new one and store it (no answer when it did), and read the one stored. */
export type TokenStore = { renew: () => Promise<Answer | undefined>; read: () => Promise<HeldToken | undefined> };

/** DingTalk refuses every token it issues to this app: the setup is wrong (a proxy, the hosts), not the token. */
function tokenNeverAccepted(refusal: Answer): Answer {
	return { ...refusal, kind: 'configuration', scope: 'app', text: TEXTS.freshTokenRejected };
}

/** One run's use of its app's process token: one renewal at a time in the process, shared by every waiting call. */
export class TokenSession {
	/** Why no token can be had in this run, once that is settled. */
	private failure?: Answer;
	constructor(
		private readonly slot: TokenSlot,
		private readonly store: TokenStore,
		private readonly clock: Clock,
		private readonly retry: RetryPolicy,
		private readonly signal: AbortSignal | undefined,
		offered: HeldToken | undefined,
	) {
		// A run whose stored token is newer than the process's brings it: another worker renewed it.
		const { state } = slot;
		const newer = state.kind === 'none' || state.kind === 'refused' || (state.kind !== 'settling' && offered && offered.renewAt > state.renewAt);
		if (offered && newer && !('token' in state && state.token === offered.token)) slot.state = { kind: 'stored', ...offered };
	}

	/** Sends a call with the process's token, renewed first where needed and again when DingTalk refuses it. */
	async send(sendWith: SendWith): Promise<Answer> {
		for (let refusals = 0; ; ) {
			if (this.signal?.aborted) return { kind: 'cancelled', code: 'cancelled', message: 'the execution was stopped before the call went' };
			if (this.failure) return this.failure;
			const { state } = this.slot;
			if (state.kind === 'settling') {
				const settled = await untilStopped(state.settled, this.signal);
				if (settled !== 'stopped' && settled) this.failure = settled;
				continue;
			}
			if (state.kind === 'none' || state.kind === 'refused' || this.due(state)) {
				await this.settle(async () => await this.renew(state));
				continue;
			}
			let used: HeldToken = state;
			const inUse = () => (this.slot.state.kind === 'ready' ? (used = this.slot.state) : undefined);
			const answer = state.kind === 'ready' ? await sendWith(inUse) : await this.settle(async () => await this.tryAlone(state, sendWith));
			if (!answer) continue;
			if (answer.kind !== 'tokenRejected') return answer;
			// Dropped only if still the one in use: another call may have renewed it already.
			if (this.slot.state.kind === 'ready' && this.slot.state.token === used.token) this.slot.state = { kind: 'refused', token: used.token };
			if (++refusals === MOST_REFUSALS) this.failure ??= tokenNeverAccepted(answer);
		}
	}

	/** Runs `work` while the other calls wait; they take up a configuration error it ends with (not a passing failure: they try themselves). */
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
	private async tryAlone(token: HeldToken & { kind: 'stored' | 'issued' }, sendWith: SendWith): Promise<Answer | undefined> {
		const answer = await sendWith(() => token);
		if (answer?.kind === 'tokenRejected') {
			this.slot.state = { kind: 'refused', token: token.token };
			if (token.kind === 'issued') this.failure = tokenNeverAccepted(answer);
		} else if (answer && answer.kind !== 'cancelled' && answer.kind !== 'tokenUnavailable') {
			this.slot.state = { kind: 'ready', token: token.token, renewAt: token.renewAt };
		}
		return answer;
	}

	/** Has n8n get a new token and store it for later runs and other workers, unless one of them stored a good one meanwhile. */
	private async renew(state: Exclude<TokenState, { kind: 'settling' }>): Promise<void> {
		const inHand = state.kind === 'none' || state.kind === 'refused' ? undefined : state;
		const stored = await this.storedToken();
		if (this.failure) return;
		if (stored && stored.token !== ('token' in state ? state.token : '') && !this.due(stored)) return void (this.slot.state = { kind: 'stored', ...stored });
		for (const repeats = { faults: 0, throttles: 0 }; ; ) {
			const failed = await untilStopped(this.store.renew(), this.signal);
			if (failed === 'stopped' || this.signal?.aborted) return;
			// The token n8n stored since is the new one, whatever n8n's helper threw.
			const after = await this.storedToken();
			if (this.failure) return;
			if (after && (after.token !== stored?.token || after.renewAt !== stored?.renewAt)) return void (this.slot.state = { kind: state.kind === 'refused' ? 'issued' : 'ready', ...after });
			if (!failed) return void (this.failure = { kind: 'configuration', scope: 'app', code: 'credentialUnavailable', message: TEXTS.tokenNotStored });
			const tokenAnswer = failed.kind === 'tokenUnavailable' ? failed.tokenAnswer : failed;
			const refused = tokenAnswer.kind !== 'throttled' && tokenAnswer.kind !== 'failed' && tokenAnswer.kind !== 'lost';
			// Ahead of expiry, the token in hand serves while the token API fails for a moment.
			if (!refused && inHand) return void (this.slot.state = { ...inHand, renewAt: this.clock.now() + RENEW_AGAIN_AFTER_MS });
			if (await this.retry.waitToRepeat(tokenAnswer, repeats)) continue;
			if (this.signal?.aborted) return;
			// DingTalk refused the keys, or n8n could not reach it at all: the setup is wrong.
			const unreachable = tokenAnswer.kind === 'failed' && tokenAnswer.code === 'network';
			return void (this.failure =
				refused || unreachable
					? { kind: 'configuration', scope: 'app', code: tokenAnswer.code, message: failed.message, requestId: tokenAnswer.requestId }
					: { ...failed, kind: 'tokenUnavailable', tokenAnswer, message: TEXTS.tokenUnavailable(failed.message) });
		}
	}

	/** Shortly before DingTalk expires it (a token stored without `renewAt` is used until DingTalk refuses it). */
	private due({ renewAt }: HeldToken): boolean {
		return renewAt > 0 && this.clock.now() >= renewAt;
	}

	/** The token n8n stores now, if any; when n8n cannot read the credential, this run's failure says so. */
	private async storedToken(): Promise<HeldToken | undefined> {
		try {
			return await this.store.read();
		} catch (error) {
			this.failure = { kind: 'configuration', scope: 'app', code: 'credentialUnavailable', message: TEXTS.credentialUnreadable((error as Error).message) };
			return undefined;
		}
	}
}
