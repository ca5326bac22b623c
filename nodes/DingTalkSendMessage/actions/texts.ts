/** What the Send node says to people in its own words. */
export const SEND_TEXTS = {
	notSent: (code: string, message: string) => `DingTalk did not send the message (${code}: ${message}).`,
	maybeSent:
		"DingTalk's answer did not come through, so the message may have been sent, and its ID is known to nobody: look in DingTalk before sending it again (the node does not repeat a send whose answer was lost, so that nobody gets it twice).",
	sendStopped: 'The execution was stopped before the message was sent.',
	unconnected: 'The connection to DingTalk failed before the message went, even after retries: it was not sent.',
	flowControlled: "DingTalk held the message back from this recipient for its limits (flowControlledStaffIdList), even after the node's repeats. Send it again later.",
	filtered: 'DingTalk did not send the message to this recipient (filteredStaffIdList), without saying why: the person may have left or muted the robot.',
	invalidStaffId: 'DingTalk does not know this userId in your organisation (invalidStaffIdList). Check it: admin console → Contacts → the person → UserID.',
	noId: "DingTalk answered without the message's ID, so it may have been sent and nobody can recall it: look in DingTalk before sending it again.",
	sentBeforeStop: (count: number, shown: string[]) =>
		`${count} ${count === 1 ? 'message was' : 'messages were'} sent before the node stopped: ${shown.join(', ')}${count > shown.length ? `, and ${count - shown.length} more` : ''}. They went out: recall them with the DingTalk Recall Message node if they must go.`,
};
