import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import type { Clock } from '../../../credentials/DingTalkClock';
import { systemClock } from '../../../credentials/DingTalkClock';
import type { PaceSettings } from './pacer';
import { PACER_AGES_AFTER_MS, Pacer, STANDARD_PACE } from './pacer';
import type { TokenSlot } from './tokenSession';

/** A pacer idle this long is forgotten: apps and test servers come and go in a long-lived n8n process. */
export const PACER_FORGOTTEN_AFTER_MS = 10 * 60_000;

/** The app DingTalk counts a credential's calls against: its client ID, or suite key and corp ID; never a secret. */
export function appIdentity(credentials: ICredentialDataDecryptedObject): string {
	return credentials.appType === 'thirdParty'
		? `suite ${String(credentials.suiteKey)} corp ${String(credentials.authCorpId)}`
		: `app ${String(credentials.clientId)}`;
}

/** What the executions of one n8n process share: the clock, a token per app and host, a pacer per app and API. */
export class DingTalkProcess {
	private readonly pacers = new Map<string, Pacer>();
	private readonly tokens = new Map<string, TokenSlot>();
	private lastSweep = 0;

	constructor(
		readonly clock: Clock,
		private readonly pace: PaceSettings = STANDARD_PACE,
	) {}

	/** The pacer of the app's calls to `url` (base URL and path: two hosts or test servers never share one). */
	pacer(app: string, url: string): Pacer {
		// Look for idle pacers once a minute (or when the clock was set back), not on every call.
		const now = this.clock.now();
		if (Math.abs(now - this.lastSweep) >= PACER_AGES_AFTER_MS) {
			this.lastSweep = now;
			for (const [key, idle] of this.pacers) if (idle.idleFor(PACER_FORGOTTEN_AFTER_MS)) this.pacers.delete(key);
		}
		const key = `${app} ${url}`;
		let pacer = this.pacers.get(key);
		if (!pacer) this.pacers.set(key, (pacer = new Pacer(this.clock, this.pace)));
		return pacer;
	}

	/** The token of an app (its keys, not only its ID: a wrong secret gets no token it could not get itself) on a host. */
	token(credentials: ICredentialDataDecryptedObject, apiBaseUrl: string): TokenSlot {
		const keys =
			credentials.appType === 'thirdParty'
				? ['suite', credentials.suiteKey, credentials.suiteSecret, credentials.suiteTicket, credentials.authCorpId]
				: ['app', credentials.clientId, credentials.clientSecret];
		const key = JSON.stringify([...keys.map(String), apiBaseUrl]);
		let slot = this.tokens.get(key);
		if (!slot) this.tokens.set(key, (slot = { state: { kind: 'none' } }));
		return slot;
	}
}

/** This n8n process. */
export const thisProcess = new DingTalkProcess(systemClock);
