import type { INodeProperties } from 'n8n-workflow';

import { parseOpenDingIds, parseRobotCode } from '../../DingTalk/helpers/inputs';
import type { RecallOutcome } from '../helpers/results';
import { notRecalled } from '../helpers/results';
import { explainCode } from '../../DingTalk/texts';
import type { Answer } from '../../DingTalk/transport';
import type { KeyParameters } from './recall';
import { recallEach } from './recall';
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
		default: '={{ $json.openDingId }}',
		placeholder: 'e.g. 52f3c2b1e9a84e0f9d6a1c7b3e2d4f60',
		description:
			"The ID DingTalk gave the DING when the robot sent it: the openDingId of the DingTalk Send Message node's Success item, or of the send call's answer (POST /v1.0/robot/ding/send). One ID, a comma-separated list, or an array of IDs.",
		hint: "By default each item's openDingId field. DINGs need the Professional or Exclusive edition and the permission Premium.Ding.Write",
		displayOptions,
	},
];

/** The code DingTalk repeats at the start of its message, before the detail. */
const DING_REFUSED_PREFIX = /^recall\.ding\.exception[\s:：]*/;

/** DingTalk's refusal, with its detail ("ding not exist", "ding has already been recalled" …) in its own words. */
function outcomeOfRefusal(answer: Answer): RecallOutcome | undefined {
	if (answer.code !== DING_REFUSED) return undefined;
	const detail = answer.message.replace(DING_REFUSED_PREFIX, '').trim();
	return notRecalled(
		DING_REFUSED,
		`DingTalk refused to recall the DING (${DING_REFUSED}${detail ? `: ${detail}` : ''}). ${explainCode(DING_REFUSED, '')}`,
		answer.requestId,
	);
}

export const keyParameters: KeyParameters = {
	operation: OPERATION,
	pool: [{ name: 'robotCode', parse: parseRobotCode }],
	valueParameter: 'openDingIds',
	valueField: 'openDingId',
	parseValues: parseOpenDingIds,
	emptyProblem: 'openDingIds is empty: give at least one openDingId',
	display: (value) => value,
};

// DingTalk recalls one DING per call; its answer names the DING.
export const recall = recallEach({
	callFor: ([robotCode], openDingId) => ({
		host: 'api',
		path: DING_RECALL_PATH,
		json: { robotCode, openDingId },
		resultFields: ['openDingId'],
		echo: { field: 'openDingId', value: openDingId },
	}),
	outcomeOfRefusal,
});
