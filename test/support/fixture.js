'use strict';
/**
 * Shortcuts the tests share: a server, a credential pointing at it, and one node run. The node's
 * transport and the server run on one skipping clock (waits end at once, the clock jumps ahead), so
 * backoff, throttling and token expiry cost no real seconds; a test file whose point is real time calls
 * `useRealClock()` first.
 */
const path = require('node:path');
const { DingTalkServer, PATHS } = require('./dingtalk-server');
const { runNode, useProcess, CredentialsHelper } = require('./n8n-harness');
const { SkippingClock } = require('./skipping-clock');

const { systemClock } = require(path.resolve(__dirname, '../../dist/credentials/DingTalkClock.js'));
const { DingTalkProcess } = require(path.resolve(__dirname, '../../dist/nodes/DingTalk/transport/process.js'));

let clock = new SkippingClock();
useProcess(new DingTalkProcess(clock));

/** Real time for the node and the servers of this test file; returns the n8n process the nodes run in. */
function useRealClock() {
	clock = systemClock;
	const process = new DingTalkProcess(clock);
	useProcess(process);
	return process;
}

/** The clock the node and the servers of this test file read. */
function currentClock() {
	return clock;
}

const ROBOT = 'recallRobotOneOnOneMessages';
const WORK = 'recallWorkNotification';

const started = new Set();

/** A DingTalk-compatible server for one test; it stops when the test ends, passed or failed. */
async function startServer(options) {
	const server = await new DingTalkServer({ clock, ...options }).start();
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
async function recallRobot({ server, credentials = credentialsFor(server), items, robotCode = 'dingRobotA', options = {}, continueOnFail, onStart }) {
	return await runNode({
		items,
		credentials,
		continueOnFail,
		onStart,
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

/** Runs the Send node's `operation` on `items`, with these parameters besides the operation. */
async function send({ server, credentials = credentialsFor(server), operation, items, parameters, options = {}, continueOnFail, onStart }) {
	return await runNode({ send: true, items, credentials, continueOnFail, onStart, parameters: { operation, ...parameters, options } });
}

const json = (items) => items.map((item) => item.json);

/** Every output item with the output it came out of. */
function allOutputs(result) {
	return [
		...result.success.map((item) => ({ ...item, output: 'Success' })),
		...result.failed.map((item) => ({ ...item, output: 'Failed' })),
	];
}

module.exports = { useRealClock, currentClock, startServer, credentialsFor, recallRobot, recallWork, send, json, allOutputs, PATHS, ROBOT, WORK };
