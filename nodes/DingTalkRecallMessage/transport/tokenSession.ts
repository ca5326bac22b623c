import type { ICredentialDataDecryptedObject, IExecuteFunctions } from 'n8n-workflow';

import type { Answer } from '../../../credentials/DingTalkAnswers';
import type { Clock } from '../../../credentials/DingTalkClock';
import { untilStopped } from '../../../credentials/DingTalkClock';
import { tokenDue } from '../../../credentials/DingTalkTokenRenewal';
import { TEXTS } from '../texts';
import type { StoredCredential } from './http';
import { CREDENTIAL_TYPE, stoppedAnswer } from './http';
import type { Pacer } from './pacer';
import type { RetryPolicy } from './retryPolicy';

/** After a renewal ahead of expiry failed for a moment, the next try waits this long (the token lasts minutes more). */
const RENEW_AGAIN_AFTER_MS = 30_000;

/** A token DingTalk accepted this recently is trusted: a run's first call need not go alone to try it. */
const TRUSTED_FOR_MS = 60_000;

/** What the token request's repeat loop is told once there is nothing to repeat: a token, a refusal, the stop. */
const SETTLED: Answer = { kind: 'ok', code: 'ok', message: 'the token request is settled' };

/** Sends a call with the credential it is given (its token, or none: then n8n gets one first). */
export type SendWith = (credential: StoredCredential) => Promise<Answer>;

/** A call's answer, and the generation of the process token it went with. */
interface Sent {
	answer: Answer;
	generation: number;
}

/**
 * The access token of one DingTalk app in this n8n process, shared by every execution that calls it:
 * an expiry costs one renewal per process, however many executions meet it.
 */
class ProcessToken {
	/** The token in use and when it is due (`accessToken`, `renewAt`), as the credential stores them. */
	accessToken = '';

	renewAt = 0;

	/** Bumped with each new token; a rejection of an older token needs no renewal. */
	generation = 0;

	/** The generation DingTalk rejected, if it did. */
	rejectedGeneration = -1;

	/** The generation DingTalk last accepted (issued it, or answered a call sent with it with its result), and when. */
	acceptedGeneration = -1;

	acceptedAt = 0;

	/** A renewal in flight: it resolves with nothing once a token is had, or with why none could be. */
	renewal?: Promise<Answer | undefined>;

	/** A renewal ahead of expiry failed for a moment: the token in hand serves, and renewal waits until then. */
	renewAgainAt = 0;

	/** Generations DingTalk issued to this process (not read from storage). */
	readonly issued = new Set<number>();

	/** DingTalk issued `generation`, or answered a call sent with it with its result: that token is trusted for a while, if still the one in use. */
	accepted(generation: number, now: number): void {
		if (generation !== this.generation) return;
		this.acceptedGeneration = generation;
		this.acceptedAt = now;
	}

	/** Takes the token a credential holds where it is newer than the one in use, or the one in use was rejected. */
	offer(data: ICredentialDataDecryptedObject): void {
		const token = typeof data.accessToken === 'string' ? data.accessToken : '';
		if (!token || token === this.accessToken) return;
		const renewAt = Number(data.renewAt ?? 0);
		if (this.accessToken && this.rejectedGeneration !== this.generation && renewAt <= this.renewAt) return;
		this.accessToken = token;
		this.renewAt = renewAt;
		this.generation++;
	}
}

/** One token per app (its keys, not only its ID: a credential with a wrong secret gets no token it could not get itself) and host. */
const processTokens = new Map<string, ProcessToken>();

function processTokenFor(data: ICredentialDataDecryptedObject, apiBaseUrl: string): ProcessToken {
	const owner =
		data.appType === 'thirdParty'
			? ['suite', data.suiteKey, data.suiteSecret, data.suiteTicket, data.authCorpId]
			: ['app', data.clientId, data.clientSecret];
	const key = JSON.stringify([...owner.map(String), apiBaseUrl]);
	let token = processTokens.get(key);
	if (!token) processTokens.set(key, (token = new ProcessToken()));
	return token;
}

/**
 * One node run's use of its app's process token. DingTalk answers an expired token with 400 or errcode
 * 40001…, never the 401 after which n8n renews, so the session renews it itself: when it is missing, due
 * (shortly before it expires), or rejected. It renews through n8n's credential mechanism, so that n8n
 * stores the token for later runs and other workers: a call handed the credential with an empty token
 * makes n8n run its preAuthentication, store the result and write it into the credential it was handed.
 *
 * One renewal at a time in the process: calls that need a token while it runs wait for it, whichever
 * execution they belong to. The token request is paced on the token API's own pace and repeated within
 * Retries when it fails for a moment; a definite refusal (wrong keys, wrong address) or a failure that
 * outlasts the repeats ends every call of the run the same way, with no new token request each.
 */
export class TokenSession {
	private readonly token: ProcessToken;

	/** The credential as this run read it: its keys and addresses; the token comes from the process. */
	private readonly credential: StoredCredential;

	/** Why no token can be had in this run, once that is settled. */
	private failure?: Answer;

	/**
	 * The run's first call goes alone unless DingTalk accepted the process's token within the last minute
	 * (or the first call once it no longer has): if the token was rejected or is missing, that call finds
	 * out and renews it, and the calls after it use the new token instead of each being refused. They go
	 * at its answer, or as soon as it has a token DingTalk just issued.
	 */
	private firstCall?: Promise<void>;

	/** Lets the calls after the first go. */
	private openAfterFirstCall: () => void = () => {};

	constructor(
		private readonly context: IExecuteFunctions,
		credentials: ICredentialDataDecryptedObject,
		apiBaseUrl: string,
		private readonly clock: Clock,
		private readonly retry: RetryPolicy,
		/** The pace of the app's token API: a renewal waits its turn like any other call. */
		private readonly tokenPacer: Pacer,
	) {
		this.credential = this.asStored(credentials);
		this.token = processTokenFor(credentials, apiBaseUrl);
		// An execution whose stored token is older than the process's uses the process's; a newer one is the process's from now on.
		this.token.offer(credentials);
	}

	/** Sends a call with a fresh token: renewed first where needed, and once more if DingTalk rejects it. */
	async send(sendWith: SendWith): Promise<Answer> {
		if (!this.firstCall && !this.tokenTrusted()) {
			let open: () => void = () => {};
			this.firstCall = new Promise<void>((resolve) => (open = resolve));
			this.openAfterFirstCall = open;
			try {
				return await this.sendWithToken(sendWith);
			} finally {
				open();
			}
		}
		if ((await untilStopped(this.firstCall ?? Promise.resolve(), this.context.getExecutionCancelSignal?.())) === 'stopped') return stoppedAnswer(false);
		return await this.sendWithToken(sendWith);
	}

	private async sendWithToken(sendWith: SendWith): Promise<Answer> {
		let rejected = false;
		let storedRejections = 0;
		for (;;) {
			if (this.retry.stopped) return stoppedAnswer(false);
			if (this.token.renewal) {
				const waited = await untilStopped(this.token.renewal, this.context.getExecutionCancelSignal?.());
				if (waited === 'stopped') return stoppedAnswer(false);
				const failure = waited;
				if (failure) this.failure ??= failure;
				// Another execution's renewal brought a token DingTalk just issued: this run's other calls need not wait.
				else if (this.tokenTrusted()) this.openAfterFirstCall();
				// The stop, or another renewal, may have come meanwhile: look again.
				continue;
			}
			if (this.failure) return this.failure;
			const { answer, generation } = this.needsToken() ? await this.renewCarrying(sendWith) : await this.sendWithProcessToken(sendWith);
			if (answer.kind === 'ok') this.token.accepted(generation, this.clock.now());
			if (answer.kind !== 'tokenRejected') return answer;
			// Rejected once (an old token, or one DingTalk voided right after issuing it): renew, repeat once.
			// A stored token (another record, another worker) DingTalk refused is not a fresh token refused: renew for real.
			const fromStorage = !this.token.issued.has(generation);
			if (fromStorage) storedRejections++;
			if (!rejected || (fromStorage && storedRejections <= 2)) {
				rejected = true;
				this.token.rejectedGeneration = Math.max(this.token.rejectedGeneration, generation);
				continue;
			}
			return { ...answer, kind: 'configuration', scope: 'app', text: TEXTS.freshTokenRejected };
		}
	}

	/** DingTalk accepted the token in use within the last minute, and it is not due: no need to try it first. */
	private tokenTrusted(): boolean {
		const { token } = this;
		return token.acceptedGeneration === token.generation && this.clock.now() - token.acceptedAt < TRUSTED_FOR_MS && !this.needsToken();
	}

	private needsToken(): boolean {
		const { token } = this;
		if (!token.accessToken || token.rejectedGeneration === token.generation) return true;
		const now = this.clock.now();
		return tokenDue({ accessToken: token.accessToken, renewAt: token.renewAt }, now) && now >= token.renewAgainAt;
	}

	private async sendWithProcessToken(sendWith: SendWith): Promise<Sent> {
		const { generation } = this.token;
		return { answer: await sendWith(this.withProcessToken()), generation };
	}

	/** This run's credential with the process's token. */
	private withProcessToken(): StoredCredential {
		return { ...this.credential, data: { ...this.credential.data, accessToken: this.token.accessToken, renewAt: this.token.renewAt } };
	}

	/**
	 * Renews the token with this call: the call goes with an empty token, n8n gets and stores a new one
	 * and sends the call with it. Calls that come meanwhile, from any execution, wait until n8n has the new
	 * token, not for the call's answer. If another worker stored a token that is still good, that one is used instead.
	 */
	private async renewCarrying(sendWith: SendWith): Promise<Sent> {
		const { token } = this;
		let resolveRenewal: (failure?: Answer) => void = () => {};
		const renewal = new Promise<Answer | undefined>((resolve) => (resolveRenewal = resolve));
		token.renewal = renewal;
		let settled = false;
		// Once only: the token usually comes before the carried call's answer.
		const settle = (failure?: Answer) => {
			if (settled) return;
			settled = true;
			if (token.renewal === renewal) token.renewal = undefined;
			resolveRenewal(failure);
		};
		/** The token this renewal got, once n8n has it, and its generation. */
		let taken: string | undefined;
		let renewed = token.generation;
		const take = (data: ICredentialDataDecryptedObject): number => {
			if (data.accessToken === taken) return renewed;
			taken = String(data.accessToken);
			token.accessToken = taken;
			token.renewAt = Number(data.renewAt ?? 0);
			renewed = ++token.generation;
			token.issued.add(renewed);
			// DingTalk issued it this moment: as good as accepted, so no call need wait for the carried call's answer.
			token.accepted(renewed, this.clock.now());
			settle();
			this.openAfterFirstCall();
			return renewed;
		};
		try {
			// Renewing ahead of expiry: the token in hand still works if the token API fails for a moment.
			const ahead = Boolean(token.accessToken) && token.rejectedGeneration !== token.generation;
			const stored = this.asStored(await this.context.getCredentials(CREDENTIAL_TYPE));
			if (stored.data.accessToken !== token.accessToken && !tokenDue(stored.data, this.clock.now())) {
				token.offer(stored.data);
				settle();
				return await this.sendWithProcessToken(sendWith);
			}
			let renewing = stored;
			/** The token the last attempt brought while its call was on (a later write is n8n's alone, for the store). */
			let brought = '';
			/** The last token request's failure, or the carried call's own answer once the request is settled. */
			let answer: Answer = stoppedAnswer(false);
			// The token request is repeated as any call is (faults within Retries, throttles after their wait),
			// except ahead of expiry, when the token in hand serves meanwhile. The carried call's answer is never repeated here.
			await this.retry.run(async () => {
				const handed = renewingCredential(stored, take);
				renewing = handed.credential;
				try {
					answer = await this.pacedRenewal(sendWith, renewing);
				} finally {
					brought = handed.close();
				}
				if (brought || answer.kind !== 'tokenUnavailable' || ahead) return SETTLED;
				return { ...answer, kind: answer.tokenAnswerKind ?? 'failed' };
			});
			if (brought) return { answer, generation: take({ ...renewing.data, accessToken: brought }) };
			if (answer.kind === 'tokenUnavailable' && answer.tokenFailure !== 'refused' && ahead) {
				token.renewAgainAt = this.clock.now() + RENEW_AGAIN_AFTER_MS;
				settle();
				return await this.sendWithProcessToken(sendWith);
			}
			// A stopped run settles nothing for the others: the next waiter renews in its place.
			if (answer.code === 'cancelled' || this.retry.stopped) {
				settle();
				return { answer: stoppedAnswer(false), generation: token.generation };
			}
			const failure = this.unavailable(answer);
			settle(failure);
			this.failure = failure;
			return { answer: failure, generation: token.generation };
		} catch (error) {
			// Reading the stored credential failed: n8n's own fault, nothing to repeat.
			const failure: Answer = {
				kind: 'configuration',
				scope: 'app',
				code: 'credentialUnavailable',
				message: TEXTS.credentialUnreadable((error as Error).message),
			};
			settle(failure);
			this.failure = failure;
			return { answer: failure, generation: token.generation };
		}
	}

	/** One token request, carried by a call, in its turn on the token API's pace (a stop leaves the queue). */
	private async pacedRenewal(sendWith: SendWith, renewing: StoredCredential): Promise<Answer> {
		const ticket = await this.tokenPacer.acquire(this.context.getExecutionCancelSignal?.());
		if (ticket === undefined) return stoppedAnswer(false);
		const answer = await sendWith(renewing);
		if (renewing.data.accessToken) this.tokenPacer.admitted(ticket);
		else if (answer.tokenAnswerKind === 'throttled') this.tokenPacer.throttled(ticket);
		else if (answer.kind === 'tokenUnavailable') this.tokenPacer.admitted(ticket);
		else this.tokenPacer.abandon(ticket);
		return answer;
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

	private asStored(data: ICredentialDataDecryptedObject): StoredCredential {
		const reference = this.context.getNode().credentials?.[CREDENTIAL_TYPE];
		return { id: reference?.id ?? '', name: reference?.name ?? '', type: CREDENTIAL_TYPE, data: { ...data } };
	}
}

/**
 * The credential a renewal hands n8n, with an empty token: n8n gets a new one and writes it in before the
 * carried call goes, and `onToken` hears of it then, so that waiting calls need not wait for that call's answer.
 * Closed once the call is over: n8n finishes a stopped call's token request all the same, and that late
 * token must not replace one a later renewal got meanwhile.
 */
function renewingCredential(
	stored: StoredCredential,
	onToken: (data: ICredentialDataDecryptedObject) => void,
): { credential: StoredCredential; close: () => string } {
	const data: ICredentialDataDecryptedObject = { ...stored.data };
	let accessToken = '';
	let open = true;
	Object.defineProperty(data, 'accessToken', {
		enumerable: true,
		get: () => accessToken,
		set: (value: unknown) => {
			const renewed = typeof value === 'string' && value !== '' && value !== accessToken;
			accessToken = typeof value === 'string' ? value : '';
			// n8n writes the token and its renewAt in one go: read them once both are in. Once closed, n8n still stores what it got.
			if (renewed && open) void Promise.resolve().then(() => onToken(data));
		},
	});
	let atClose = '';
	return {
		credential: { ...stored, data },
		close: () => {
			if (open) atClose = accessToken;
			open = false;
			return atClose;
		},
	};
}
