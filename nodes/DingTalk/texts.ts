/** What the nodes say to people in their own words (what DingTalk's codes mean lives in the answer table). */
import type { Answer } from '../../credentials/DingTalkAnswers';
import { meaningOf, NODE_CODES } from '../../credentials/DingTalkAnswers';

/** What a code means for the person reading a Failed item, or `fallback` where nothing is known of it. */
export function explainCode(code: string, fallback: string): string {
	return NODE_CODES.get(code) ?? meaningOf(code)?.text ?? fallback;
}

/** What a configuration error says, in DingTalk's words, and what to do about it where its row says. */
export function configurationProblem(answer: Answer): { problem: string; fix?: string } {
	// A token failure's message already says what to check.
	if (!answer.text) return { problem: answer.message };
	return { problem: TEXTS.refusedCall(answer.code, answer.message), fix: answer.text };
}

/** What a configuration error tells the user on a Failed item: DingTalk's words, then what to do, each once. */
export function configurationMessage(answer: Answer): string {
	const { problem, fix } = configurationProblem(answer);
	return fix ? `${problem}. ${fix}` : problem;
}

/** What an unclear outcome adds to its message, by what DingTalk's read status said about it. */
export const STATUS_NOTES = {
	notRecalled: 'Its read status shows the message was not recalled.',
	unavailable: 'Its read status could not be asked either: it may have been recalled all the same; look in DingTalk before sending the recall again.',
	unchecked: 'It may have been recalled all the same: look in DingTalk before sending the recall again.',
};

export const TEXTS = {
	throttled: 'DingTalk kept throttling the calls, even after waiting. Lower Parallel Calls, or run again later.',
	notRecalled: (code: string, message: string) => `DingTalk did not recall the message (${code}: ${message}).`,
	failedReason: (reason: string) => `DingTalk could not recall this message; its reason: ${reason}.`,
	tokenUnavailable: (message: string) => `${message} The node repeated the token request within Retries; run again later.`,
	freshTokenRejected:
		"DingTalk rejected an access token it had just issued, twice. Check that the credential's API Base URL and OAPI Base URL belong to the same DingTalk environment and that no proxy between n8n and DingTalk drops the token header, then run again.",
	credentialUnreadable: (message: string) => `n8n could not read the DingTalk API credential (${message}).`,
	tokenNotStored: 'n8n got a new DingTalk access token but did not store it in the credential, so the node cannot use it.',
	credentialUnreadableFix: 'Select a DingTalk API credential on the node, and check that it still exists and that this workflow may use it.',
	invalidOptions: (message: string) => `The node's Options could not be read (${message}).`,
	invalidOptionsFix: 'Check the expressions in the node’s Options.',
	credentialTest: "Use the DingTalk API credential's Test button to see DingTalk's answer once it is fixed.",
	refusedCall: (code: string, message: string) => `DingTalk refused the call: ${code} (${message})`,
	nodeFailed: (message: string) => `The node failed while recalling: ${message}`,
	notReached: 'The node could not get an answer for this key.',
	maybeRecalledBeforeStop: (count: number) =>
		`${count} more may have been recalled: DingTalk's answer for ${count === 1 ? 'it was' : 'them was'} lost. Look in DingTalk before recalling ${count === 1 ? 'it' : 'them'} again.`,
	recalledBeforeStop: (count: number, shown: string[]) =>
		`DingTalk recalled ${count} ${count === 1 ? 'message' : 'messages'} in this run before it stopped: ${shown.join(', ')}${count > shown.length ? `, and ${count - shown.length} more` : ''}. They are gone; do not recall them again.`,
	confirmedBeforeStop: (count: number) =>
		`DingTalk's read status showed ${count} more recalled (before this run, or by a call whose answer was lost).`,
};
