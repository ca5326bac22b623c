import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { parseOpenDingIds, parseRobotCode } from '../helpers/inputs';
import type { RecallOutcome } from '../helpers/results';
import { notRecalled } from '../helpers/results';
import { explainCode } from '../texts';
import type { DingTalkClient } from '../transport';
import type { Answer } from '../transport/errors';
import type { PoolSettings } from './recall';
import { collectKeyRequests, recallEach } from './recall';
import { robotCodeParameter } from './robotRecall';

export const OPERATION = 'recallRobotDingMessages';

export const DING_RECALL_PATH = '/v1.0/robot/ding/recall';

/** DingTalk's one code for every refused DING recall; its message is `recall.ding.exception <detail>`. */
const DING_REFUSED = 'recall.ding.exception';

const displayOptions = { show: { operation: [OPERATION] } };

export const description: INodeProperties[] = [
	robotCodeParameter(OPERATION, 'DING messages'),
	{
		displayName: 'Open DING IDs',
		name: 'openDingIds',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. 52f3c2b1e9a84e0f9d6a1c7b3e2d4f60',
		description:
			'The ID DingTalk gave the DING when the robot sent it: the openDingId in the answer of the send call (POST /v1.0/robot/ding/send). One ID, a comma-separated list, or an expression that gives an array of IDs.',
		hint: 'DINGs need the Professional or Exclusive edition and the permission Premium.Ding.Write; DingTalk recalls one DING per call',
		displayOptions,
	},
];

/** The code DingTalk repeats at the start of its message, before the detail. */
const DING_REFUSED_PREFIX = /^recall\.ding\.exception[\s:：]*/;

/** DingTalk's words after the code: "unknown DING", "another robot's", "already recalled" … */
function detailOf(answer: Answer): string {
	return answer.message.replace(DING_REFUSED_PREFIX, '').trim();
}

/** DingTalk's detail says the DING is gone already: perhaps by this run's call whose answer was lost. */
const ALREADY_RECALLED = /already|has been recalled|been revoked|已撤回|已经撤回/i;

function outcomeOfRefusal(answer: Answer): RecallOutcome | undefined {
	if (answer.code !== DING_REFUSED) return undefined;
	const detail = detailOf(answer);
	const outcome = notRecalled(
		DING_REFUSED,
		`DingTalk did not recall the DING${detail ? `: ${detail}` : ''}. ${explainCode(DING_REFUSED, '')}`,
		answer.requestId,
	);
	// No status API shows a DING's state: "already recalled" may be this run's own call, its answer lost.
	if (ALREADY_RECALLED.test(detail)) outcome.unclear = true;
	return outcome;
}

export async function execute(
	this: IExecuteFunctions,
	items: INodeExecutionData[],
	client: DingTalkClient,
	settings: PoolSettings,
): Promise<INodeExecutionData[][]> {
	const requests = collectKeyRequests(this, items, {
		operation: OPERATION,
		pool: [{ name: 'robotCode', field: 'robotCode', parse: parseRobotCode }],
		valueParameter: 'openDingIds',
		valueField: 'openDingId',
		parseValues: parseOpenDingIds,
		emptyProblem: 'openDingIds is empty: give at least one openDingId',
		display: (value) => value,
	});
	// DingTalk recalls one DING per call.
	return await recallEach(this, client, requests, settings, {
		callFor: ([robotCode], openDingId) => ({
			host: 'api',
			path: DING_RECALL_PATH,
			json: { robotCode, openDingId },
			answerField: 'openDingId',
		}),
		outcomeOfRefusal,
	});
}
