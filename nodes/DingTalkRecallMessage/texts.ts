/**
 * What the node says to people: the sentences of Failed items and of the errors that stop a run. The
 * transport sorts DingTalk's answers, the helpers build output items; both take their words from here.
 */

const BASE_URL_HINT =
	"Check the DingTalk API credential's Environment; for Custom, API Base URL must be DingTalk's new-style API host (such as https://api.dingtalk.com) and OAPI Base URL its old-style host (such as https://oapi.dingtalk.com), each without a path.";

/** Codes of the `api` host that mean the app or node is set up wrongly, with what to do about it. */
const CONFIGURATION_HINTS: Record<string, string> = {
	'Forbidden.AccessDenied.AccessTokenPermissionDenied':
		'The DingTalk app lacks the permission for this API. In the DingTalk developer console, open the app → Permissions and grant "qyapi_robot_sendmsg" (robot messages) or, for DING messages, "Premium.Ding.Write" (only in the Professional and Exclusive editions), then run again.',
	'Forbidden.AccessDenied.IpNotInWhiteList':
		"DingTalk refused n8n's IP address. Add the public IP of your n8n server to the app's IP allow-list (developer console → the app → Security settings).",
	'Forbidden.AccessDenied.ApiCountLimitForOrg':
		"The organisation's monthly API quota is spent. Wait for the next month or upgrade the DingTalk plan.",
	'invalidParameter.robotCode':
		'DingTalk does not know this robotCode. Copy the RobotCode from the developer console (the app → Robot) and check that the robot is installed in your organisation.',
	'60011':
		'The DingTalk app lacks the permission for this API. Grant it in the developer console (the app → Permissions), then run again.',
	'60020':
		"DingTalk refused n8n's IP address. Add the public IP of your n8n server to the app's IP allow-list.",
	'InvalidAction.NotFound': `DingTalk does not know this API at the credential's API Base URL. ${BASE_URL_HINT}`,
	'22': `DingTalk does not know this method at the credential's OAPI Base URL. ${BASE_URL_HINT}`,
	Missingbody: `DingTalk received the call without its JSON body: a proxy between n8n and DingTalk may change requests. ${BASE_URL_HINT}`,
	accessTokenUnavailable:
		"Check the DingTalk API credential: its keys, its Environment (China or Global) and, for Custom, its base URLs. Use the credential's Test button to see DingTalk's own answer.",
};

const TOO_OLD = 'The message is older than 24 hours; DingTalk no longer lets it be recalled.';

/** What an unsuccessful code means for the person reading the Failed output. */
const CODE_EXPLANATIONS: Record<string, string> = {
	'invalid.processQueryKey':
		'DingTalk does not know this processQueryKey. Check that it is the processQueryKey the robot batchSend call returned.',
	'robot.processQueryKey.expired': TOO_OLD,
	'processQueryKey.expireTime': TOO_OLD,
	'invalid.openConversationId':
		'DingTalk does not know this openConversationId for this robot. Check that it is the conversation the message was sent to, and that the robot is still in it.',
	'miss.openConversationId': 'DingTalk says the openConversationId is missing. Give the openConversationId of the chat the message was sent to.',
	'bot.stopped':
		'The robot is stopped in this conversation. Start it again in the chat (or the developer console), then run again.',
	'invalidParameter.processQueryKey.missing': 'DingTalk says the processQueryKey is missing or empty.',
	'not.allowed.robotCode':
		'This message was not sent by the given robot. Use the robotCode of the robot that sent it.',
	'notRevoke.all.messages': 'DingTalk said it could not recall every message of the call, without saying which.',
	'recall.ding.exception':
		'Check that Robot Code is the robot that sent this DING (only that robot can recall it), that the openDingId is one the ding/send call returned, and whether the DING was recalled before; DING needs the Professional or Exclusive edition and the permission Premium.Ding.Write.',
	'400002':
		'DingTalk does not know this agentId and msgTaskId pair, or the notification is older than 24 hours. Check both IDs.',
	timeout: 'DingTalk did not answer in time, even after retries.',
	network: 'The connection to DingTalk failed, even after retries.',
	invalidResponse:
		'DingTalk answered with something that is not its usual JSON (an HTML page, an empty body, a proxy error), even after retries.',
	'system.error': 'DingTalk had an internal error, even after retries. Try again later.',
	notReported: 'DingTalk answered the call but did not say whether this message was recalled.',
	invalidInput: 'The input for this item is not valid.',
};

export function explainCode(code: string, fallback: string): string {
	return CODE_EXPLANATIONS[code] ?? fallback;
}

export function configurationHint(code: string): string | undefined {
	return CONFIGURATION_HINTS[code];
}


/** What an unclear outcome adds to its message, by what DingTalk's read status said about it. */
export const STATUS_NOTES = {
	notRecalled: 'Its read status shows the message was not recalled.',
	unavailable: 'Its read status could not be asked either: it may have been recalled all the same; look in DingTalk before sending the recall again.',
	unchecked: 'It may have been recalled all the same: look in DingTalk before sending the recall again.',
};

export const TEXTS = {
	throttled: 'DingTalk kept throttling the calls, even after waiting. Lower Parallel Calls, or run again later.',
	notRecalled: (reason: string) => `DingTalk did not recall the message: ${reason}.`,
	failedReason: (reason: string) => `DingTalk could not recall this message: ${reason}.`,
	tokenUnavailable: (message: string) => `${message} The node repeated the token request within Retries; run again later.`,
	freshTokenRejected: (code: string, message: string) => `DingTalk rejected a freshly issued access token (${code}: ${message}).`,
	cancelled: 'The execution was stopped before DingTalk answered for this message.',
	nodeFailed: (message: string) => `The node failed while recalling: ${message}`,
	notReached: 'The node could not get an answer for this key.',
	checkSetup: 'Check the DingTalk app and the node settings.',
	maybeRecalledBeforeStop: (count: number) =>
		`${count} more may have been recalled: DingTalk's answer for ${count === 1 ? 'it was' : 'them was'} lost. Look in DingTalk before recalling ${count === 1 ? 'it' : 'them'} again.`,
	alreadyRecalledBeforeStop: (count: number, shown: string[]) =>
		`DingTalk had already recalled ${count} ${count === 1 ? 'message' : 'messages'} in this run before it stopped: ${shown.join(', ')}${count > shown.length ? `, and ${count - shown.length} more` : ''}. They are gone; do not recall them again.`,
};
