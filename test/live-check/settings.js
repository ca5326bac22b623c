'use strict';
/**
 * What the live check needs from its environment, and its command-line options.
 */

const CHINA = { api: 'https://api.dingtalk.com', oapi: 'https://oapi.dingtalk.com' };

/** Every setting: its environment variable, whether the check cannot run without it, and what it is for. */
const VARIABLES = [
	{ name: 'DINGTALK_CLIENT_ID', key: 'clientId', required: true, purpose: 'Client ID (AppKey) of an internal app of your organisation' },
	{ name: 'DINGTALK_CLIENT_SECRET', key: 'clientSecret', required: true, purpose: 'Client Secret (AppSecret) of the same app; never printed' },
	{ name: 'DINGTALK_ROBOT_CODE', key: 'robotCode', required: true, purpose: "robotCode of the app's robot, which sends and recalls the test messages" },
	{ name: 'DINGTALK_USER_ID', key: 'userId', required: true, purpose: 'userId of the test recipient (ideally you): gets a one-on-one message, and the work notification and DING where configured' },
	{ name: 'DINGTALK_OPEN_CONVERSATION_ID', key: 'openConversationId', required: false, purpose: 'a test group the robot is in: adds a group message' },
	{ name: 'DINGTALK_AGENT_ID', key: 'agentId', required: false, purpose: "the app's AgentId: adds a work notification" },
	{ name: 'DINGTALK_DING', key: 'ding', required: false, purpose: '1 when the app may send DINGs (Professional or Exclusive edition, Premium.Ding.Write): adds an in-app DING' },
	{ name: 'DINGTALK_API_BASE_URL', key: 'apiBaseUrl', required: false, purpose: `new-style API host (default ${CHINA.api})` },
	{ name: 'DINGTALK_OAPI_BASE_URL', key: 'oapiBaseUrl', required: false, purpose: `old-style API host (default ${CHINA.oapi})` },
];

/** The settings in `env`, or the names of the required variables it lacks. */
function readSettings(env) {
	const value = (name) => (env[name] ?? '').trim();
	const missing = VARIABLES.filter((variable) => variable.required && !value(variable.name)).map((variable) => variable.name);
	if (missing.length) return { missing };
	const settings = Object.fromEntries(VARIABLES.map((variable) => [variable.key, value(variable.name) || undefined]));
	settings.ding = settings.ding === '1';
	settings.apiBaseUrl = (settings.apiBaseUrl ?? CHINA.api).replace(/\/+$/, '');
	settings.oapiBaseUrl = (settings.oapiBaseUrl ?? CHINA.oapi).replace(/\/+$/, '');
	const problems = [];
	if (settings.agentId !== undefined && !/^\d+$/.test(settings.agentId)) problems.push('DINGTALK_AGENT_ID must be a number (the AgentId)');
	for (const name of ['DINGTALK_API_BASE_URL', 'DINGTALK_OAPI_BASE_URL']) {
		if (value(name) && !/^https?:\/\/[^/]/.test(value(name))) problems.push(`${name} must be an http(s) URL`);
	}
	return { settings, problems };
}

/** What the check prints when it cannot run: each variable and what it is for. */
function needsText(missing) {
	const line = (variable) => `  ${variable.name.padEnd(30)} ${variable.purpose}`;
	return [
		`The live check needs ${missing.join(', ')}; it sent nothing and checked nothing.`,
		'',
		'Required:',
		...VARIABLES.filter((variable) => variable.required).map(line),
		'Optional:',
		...VARIABLES.filter((variable) => !variable.required).map(line),
		'',
		'Setup (app, permissions, test user): docs/live-check.md',
	].join('\n');
}

/** `--dry-run`, `--report=<file.json>`, `--wait-before-recall=<seconds>`. */
function parseArguments(argv) {
	const options = { dryRun: false, reportPath: 'live-check-report.json', waitBeforeRecallSeconds: 3 };
	for (const argument of argv) {
		const [flag, value] = argument.split(/=(.*)/s);
		if (flag === '--dry-run') options.dryRun = true;
		else if (flag === '--report' && value) options.reportPath = value;
		else if (flag === '--wait-before-recall' && /^\d+(\.\d+)?$/.test(value ?? '')) options.waitBeforeRecallSeconds = Number(value);
		else throw new Error(`Unknown argument ${argument}. Use --dry-run, --report=<file.json>, --wait-before-recall=<seconds>.`);
	}
	return options;
}

module.exports = { readSettings, needsText, parseArguments, VARIABLES };
