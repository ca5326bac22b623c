'use strict';
/**
 * A forwarding proxy on 127.0.0.1 for DingTalk's two hosts: the credential (environment `custom`) points
 * at it, it forwards every call to the configured base URLs and records each answer's status and body,
 * so the live check sees DingTalk's raw answers. It also holds the per-run limit on messages sent.
 */
const http = require('node:http');
const https = require('node:https');
const zlib = require('node:zlib');

/** The send APIs: each call may put a message in front of a person. */
const SEND_PATHS = new Set([
	'/v1.0/robot/oToMessages/batchSend',
	'/v1.0/robot/groupMessages/send',
	'/v1.0/robot/privateChatMessages/send',
	'/v1.0/robot/ding/send',
	'/topapi/message/corpconversation/asyncsend_v2',
]);

/** Never more messages than this per run, whatever repeats n8n's helpers make. */
const MESSAGE_LIMIT = 10;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host', 'content-length']);

function readAll(stream) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		stream.on('data', (chunk) => chunks.push(chunk));
		stream.on('end', () => resolve(Buffer.concat(chunks)));
		stream.on('error', reject);
	});
}

function decoded(buffer, encoding) {
	try {
		if (encoding === 'gzip') return zlib.gunzipSync(buffer).toString('utf8');
		if (encoding === 'deflate') return zlib.inflateSync(buffer).toString('utf8');
		if (encoding === 'br') return zlib.brotliDecompressSync(buffer).toString('utf8');
	} catch {
		return '<undecodable body>';
	}
	return buffer.toString('utf8');
}

class RecordingProxy {
	/**
	 * @param {{ api: string, oapi: string }} targets the base URLs calls are forwarded to
	 * @param {{ messageLimit?: number, timeoutMs?: number }} [options]
	 */
	constructor(targets, { messageLimit = MESSAGE_LIMIT, timeoutMs = 60_000 } = {}) {
		this.targets = targets;
		this.messageLimit = Math.min(messageLimit, MESSAGE_LIMIT);
		this.timeoutMs = timeoutMs;
		/** Every call: { case, host, method, path, status, contentType, body, error?, refused? }. */
		this.calls = [];
		/** What the scenario is doing now; each recorded call is filed under it. */
		this.currentCase = 'setup';
		this.sendsForwarded = 0;
		this.sockets = new Set();
	}

	async start() {
		this.servers = {};
		for (const host of ['api', 'oapi']) {
			const server = http.createServer((req, res) => void this.forward(host, req, res));
			server.on('connection', (socket) => {
				this.sockets.add(socket);
				socket.on('close', () => this.sockets.delete(socket));
			});
			await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
			this.servers[host] = server;
		}
		this.apiBaseUrl = `http://127.0.0.1:${this.servers.api.address().port}`;
		this.oapiBaseUrl = `http://127.0.0.1:${this.servers.oapi.address().port}`;
		return this;
	}

	async stop() {
		for (const socket of this.sockets) socket.destroy();
		await Promise.all(Object.values(this.servers ?? {}).map((server) => new Promise((resolve) => server.close(resolve))));
	}

	async forward(host, req, res) {
		const incoming = new URL(req.url, 'http://127.0.0.1');
		const call = { case: this.currentCase, host, method: req.method, path: incoming.pathname, status: 0 };
		this.calls.push(call);
		const body = await readAll(req);

		if (SEND_PATHS.has(incoming.pathname) && this.sendsForwarded >= this.messageLimit) {
			// Answered here, never forwarded: the run has sent as many messages as it may.
			call.refused = `more than ${this.messageLimit} messages in one run`;
			call.status = 429;
			call.contentType = 'application/json';
			call.body = JSON.stringify({ code: 'liveCheck.messageLimit', message: `The live check sends at most ${this.messageLimit} messages per run.` });
			res.writeHead(429, { 'content-type': call.contentType });
			res.end(call.body);
			return;
		}
		if (SEND_PATHS.has(incoming.pathname)) this.sendsForwarded++;

		const base = new URL(this.targets[host]);
		const target = new URL(`${base.pathname.replace(/\/+$/, '')}${incoming.pathname}${incoming.search}`, base);
		const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP.has(name) && name !== 'accept-encoding'));
		if (body.length) headers['content-length'] = String(body.length);
		const client = target.protocol === 'https:' ? https : http;
		const upstream = client.request(target, { method: req.method, headers, timeout: this.timeoutMs }, async (answer) => {
			const raw = await readAll(answer).catch(() => Buffer.alloc(0));
			call.status = answer.statusCode;
			call.contentType = answer.headers['content-type'];
			call.body = decoded(raw, answer.headers['content-encoding']);
			const passOn = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
			res.writeHead(answer.statusCode, { ...passOn, 'content-length': raw.length });
			res.end(raw);
		});
		upstream.on('timeout', () => upstream.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })));
		upstream.on('error', (error) => {
			// The caller sees what it would have seen without the proxy: a connection that failed.
			call.error = error.code ?? 'network';
			res.destroy();
		});
		// A caller that gives up (its own timeout, a stop) ends the forwarded call too.
		res.on('close', () => {
			if (!res.writableFinished) upstream.destroy();
		});
		upstream.end(body);
	}

	/** How many calls to the send APIs went to DingTalk. */
	get messagesSent() {
		return this.sendsForwarded;
	}
}

module.exports = { RecordingProxy, SEND_PATHS, MESSAGE_LIMIT };
