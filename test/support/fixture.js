'use strict';
/** Shortcuts the tests share: a server, a credential pointing at it, and one node run. */
const { DingTalkServer, PATHS } = require('./dingtalk-server');
const { runNode, CredentialsHelper } = require('./n8n-harness');

const ROBOT = 'recallRobotOneOnOneMessages';
const WORK = 'recallWorkNotification';

const started = new Set();

/** A DingTalk-compatible server for one test; it stops when the test ends, passed or failed. */
async function startServer(options) {
	const server = await new DingTalkServer(options).start();
	started.add(server);
	return server;
}

afterEach(async () => {
	await Promise.all([...started].map(async (server) => await server.stop()));
	started.clear();
});

function credentialsFor(server, overrides = {}) {
	const credentials = new CredentialsHelper();
	credentials.add('cred-1', server.credentialData(overrides));
	return credentials;
}

/** Runs the robot operation on `items`, each item's keys taken from `$json.keys`. */
async function recallRobot({ server, credentials = credentialsFor(server), items, robotCode = 'dingRobotA', options = {}, continueOnFail }) {
	return await runNode({
		items,
		credentials,
		continueOnFail,
		parameters: {
			operation: ROBOT,
			robotCode,
			processQueryKeys: '={{ $json.keys }}',
			options,
		},
	});
}

/** Runs the work notification operation on `items` (`$json.agentId`, `$json.taskId`). */
async function recallWork({ server, credentials = credentialsFor(server), items, options = {}, continueOnFail }) {
	return await runNode({
		items,
		credentials,
		continueOnFail,
		parameters: { operation: WORK, agentId: '={{ $json.agentId }}', msgTaskId: '={{ $json.taskId }}', options },
	});
}

const json = (items) => items.map((item) => item.json);

/** Every output item with the output it came out of. */
function allOutputs(result) {
	return [
		...result.success.map((item) => ({ ...item, output: 'Success' })),
		...result.failed.map((item) => ({ ...item, output: 'Failed' })),
	];
}

module.exports = { startServer, credentialsFor, recallRobot, recallWork, json, allOutputs, PATHS, ROBOT, WORK };
