import type { ICredentialDataDecryptedObject, IExecuteFunctions } from 'n8n-workflow';

import { tokenDue } from '../../../credentials/DingTalkTokenRenewal';
import { TEXTS } from '../texts';
import type { Clock } from '../../../credentials/DingTalkClock';
import type { Answer } from '../../../credentials/DingTalkAnswers';
import type { StoredCredential } from './http';
import { CREDENTIAL_TYPE, stoppedAnswer } from './http';
import type { RetryPolicy } from './retryPolicy';

/** After a renewal ahead of expiry failed for a moment, the next try waits this long (the token lasts minutes more). */
const RENEW_AGAIN_AFTER_MS = 30_000;

/** Sends a call with the credential it is given (its token, or none: then n8n gets one first). */
export type SendWith = (credential: StoredCredential) => Promise<Answer>;

/**
 * The access token of one node run. DingTalk answers an expired token with 400 or errcode 40001…, never
 * the 401 after which n8n renews, so the session renews it itself: when it is missing, due (shortly before
 * it expires), or rejected. It renews through n8n's credential mechanism, so that n8n stores the token for
 * later runs and other workers: a call handed the credential with an empty token makes n8n run its
 * preAuthentication, store the result and write it into the credential it was handed.
 *
 * One renewal at a time: the calls that need a token while it runs wait for it. A token request that fails
 * for a moment is repeated within Retries, once for all of them; a definite refusal (wrong keys, wrong
 * address) or a failure that outlasts the repeats ends every call of the run the same way, with no new
 * token request each.
 */
export class TokenSession {
	private credential: StoredCredential;

	/** Bumped with each new token; a rejection of an older token needs no renewal. */
	private generation = 0;

	/** The generation DingTalk rejected, if it did. */
	private rejectedGeneration = -1;

	/** A renewal in flight: it resolves with nothing once a token is had, or with why none could be. */
	private renewal?: Promise<Answer | undefined>;

	/** Why no token can be had in this run, once that is settled. */
	private failure?: Answer;

	/** A renewal ahead of expiry failed for a moment: the token in hand serves, and renewal waits until then. */
	private renewAgainAt = 0;

	/**
	 * The run's first call goes alone: if the stored token was rejected or is missing, it is the one that
	 * finds out and renews it, and the calls after it use the new token instead of each being refused.
	 */
	private firstCall?: Promise<unknown>;

	constructor(
		private readonly context: IExecuteFunctions,
		credentials: ICredentialDataDecryptedObject,
		private readonly clock: Clock,
		private readonly retry: RetryPolicy,
	) {
		this.credential = this.asStored(credentials);
	}

	/** Sends a call with a fresh token: renewed first where needed, and once more if DingTalk rejects it. */
	async send(sendWith: SendWith): Promise<Answer> {
		if (!this.firstCall) {
			const first = this.sendWithToken(sendWith);
			this.firstCall = first;
			return await first;
		}
		await this.firstCall;
		return await this.sendWithToken(sendWith);
	}

	private async sendWithToken(sendWith: SendWith): Promise<Answer> {
		let rejected = false;
		for (;;) {
			if (this.retry.stopped) return stoppedAnswer(false);
			if (this.renewal) {
				const failure = await this.renewal;
				if (failure) return failure;
				// The stop, or another renewal, may have come meanwhile: look again.
				continue;
			}
			if (this.failure) return this.failure;
			let answer: Answer;
			let generation = this.generation;
			if (this.needsToken()) {
				answer = await this.renewCarrying(sendWith);
				generation = this.generation;
			} else {
				answer = await sendWith(this.credential);
			}
			if (answer.kind !== 'tokenRejected') return answer;
			// Rejected once (an old token, or one DingTalk voided right after issuing it): renew, repeat once.
			if (!rejected) {
				rejected = true;
				this.rejectedGeneration = Math.max(this.rejectedGeneration, generation);
				continue;
			}
			return {
				...answer,
				kind: 'configuration',
				scope: 'app',
				message: TEXTS.freshTokenRejected(answer.code, answer.message),
			};
		}
	}

	private needsToken(): boolean {
		if (!this.credential.data.accessToken || this.rejectedGeneration === this.generation) return true;
		const now = this.clock.now();
		return tokenDue(this.credential.data, now) && now >= this.renewAgainAt;
	}

	/**
	 * Renews the token with this call: the call goes with an empty token, n8n gets and stores a new one
	 * and sends the call with it. Calls that come meanwhile wait. If another execution stored a token that
	 * is still good, that one is used instead.
	 */
	private async renewCarrying(sendWith: SendWith): Promise<Answer> {
		let settle: (failure?: Answer) => void = () => {};
		this.renewal = new Promise((resolve) => {
			settle = (failure) => {
				this.renewal = undefined;
				if (failure) this.failure = failure;
				resolve(failure);
			};
		});
		try {
			const current = this.credential.data.accessToken;
			// Renewing ahead of expiry: the token in hand still works if the token API fails for a moment.
			const ahead = Boolean(current) && this.rejectedGeneration !== this.generation;
			const stored = this.asStored(await this.context.getCredentials(CREDENTIAL_TYPE));
			if (stored.data.accessToken !== current && !tokenDue(stored.data, this.clock.now())) {
				this.adopt(stored);
				settle();
				return await sendWith(this.credential);
			}
			for (let attempt = 1; ; attempt++) {
				const renewing = { ...stored, data: { ...stored.data, accessToken: '' } };
				const answer = await sendWith(renewing);
				if (renewing.data.accessToken) {
					this.adopt(renewing);
					settle();
					return answer;
				}
				const passing = answer.kind === 'tokenUnavailable' && answer.tokenFailure !== 'refused';
				if (passing && ahead) {
					this.renewAgainAt = this.clock.now() + RENEW_AGAIN_AFTER_MS;
					settle();
					return await sendWith(this.credential);
				}
				if (passing && attempt <= this.retry.settings.maxRetries && !this.retry.stopped) {
					await this.retry.waitBeforeRepeat(attempt);
					continue;
				}
				const failure = this.unavailable(answer);
				settle(answer.kind === 'cancelled' || answer.code === 'cancelled' ? undefined : failure);
				return failure;
			}
		} catch (error) {
			// Reading the stored credential failed: n8n's own fault, nothing to repeat.
			const failure: Answer = {
				kind: 'configuration',
				scope: 'app',
				code: 'credentialUnavailable',
				message: TEXTS.credentialUnreadable((error as Error).message),
			};
			settle(failure);
			return failure;
		}
	}

	/**
	 * What a token request that failed for good means for every call of the run: the keys or the address
	 * are wrong (a configuration error), or DingTalk's token API kept failing (every call fails alike).
	 */
	private unavailable(answer: Answer): Answer {
		if (answer.kind !== 'tokenUnavailable') return answer;
		if (answer.tokenFailure === 'passing') return { ...answer, message: TEXTS.tokenUnavailable(answer.message) };
		return { ...answer, kind: 'configuration', scope: 'app' };
	}

	private adopt(credential: StoredCredential): void {
		this.credential = credential;
		this.generation++;
	}

	private asStored(data: ICredentialDataDecryptedObject): StoredCredential {
		const reference = this.context.getNode().credentials?.[CREDENTIAL_TYPE];
		return { id: reference?.id ?? '', name: reference?.name ?? '', type: CREDENTIAL_TYPE, data: { ...data } };
	}
}
