'use strict';
/**
 * A DingTalk-compatible server for tests, the demo and the benchmark, on 127.0.0.1.
 *
 * It models ../shared/dingtalk-api.md: two hosts (`api` for /v1.0/ APIs with the token in the
 * `x-acs-dingtalk-access-token` header and `{code, message, requestid}` errors; `oapi` for /topapi/
 * APIs with the token in the `access_token` query parameter and HTTP 200 `{errcode, errmsg}` answers),
 * tokens that expire, messages that exist or not, robots that own their messages, and faults on demand:
 * a per-API rate limit, 5xx, HTML and empty bodies, dropped connections, latency, token expiry.
 */
const http = require('node:http');
const { randomBytes, randomUUID } = require('node:crypto');

const TOKEN_LIFETIME_SECONDS = 7200;
const DAY_MS = 24 * 60 * 60 * 1000;

const PATHS = {
	accessToken: '/v1.0/oauth2/accessToken',
	corpAccessToken: '/v1.0/oauth2/corpAccessToken',
	batchRecall: '/v1.0/robot/otoMessages/batchRecall',
	batchSend: '/v1.0/robot/oToMessages/batchSend',
	workNotificationRecall: '/topapi/message/corpconversation/recall',
	workNotificationSend: '/topapi/message/corpconversation/asyncsend_v2',
};

function readBody(req) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		req.on('data', (chunk) => chunks.push(chunk));
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

function parseBody(raw, contentType) {
	if (/application\/x-www-form-urlencoded/i.test(contentType ?? '')) {
		return { ok: true, value: Object.fromEntries(new URLSearchParams(raw)) };
	}
	if (raw === '') return { ok: true, value: {} };
	try {
		return { ok: true, value: JSON.parse(raw) };
	} catch {
		return { ok: false };
	}
}

class DingTalkServer {
	constructor(options = {}) {
		/** Internal apps: appKey → appSecret. */
		this.apps = new Map(Object.entries(options.apps ?? { 'ding-app-key': 'ding-app-secret' }));
		/** Third-party apps: suiteKey → { suiteSecret, suiteTicket, corps: Set<authCorpId> }. */
		this.suites = new Map(Object.entries(options.suites ?? {}));
		/** Robots installed in the organisation. */
		this.robots = new Set(options.robots ?? ['dingRobotA', 'dingRobotB']);
		/** Agents (apps) that send work notifications. */
		this.agents = new Set((options.agents ?? ['836390886']).map(String));
		/** Which robot-recall answers refuse the whole call (see `batchRecall`). */
		this.batchMode = options.batchMode ?? 'strict';
		this.latencyMs = options.latencyMs ?? 0;
		/** Calls per second per API per app; 0 means unlimited. */
		this.rateLimitPerSecond = options.rateLimitPerSecond ?? 0;
		this.permissions = { robot: true, ipAllowed: true, ...(options.permissions ?? {}) };

		this.tokens = new Map(); // token → { owner, expiresAt }
		this.tokenOfApp = new Map(); // appKey → token (internal apps reuse a valid token)
		this.robotMessages = new Map(); // processQueryKey → { robotCode, sentAt, recalled }
		this.notifications = new Map(); // task id → { agentId, recalled }
		this.nextTaskId = 256271667526;
		this.admitted = new Map(); // `${owner} ${path}` → start times of admitted calls

		/** Every request received: { host, path, status, body, token, tokenIn, at }. */
		this.calls = [];
		this.tokenFetches = 0;
		/** Faults queued for the next matching calls: { path, type, remaining }. */
		this.faultQueue = [];
		/** Set to a number: every token expires after that many recall calls. */
		this.expireTokensAfter = undefined;
		this.record = options.record ?? true;
		this.sockets = new Set();
	}

	async start() {
		this.apiServer = http.createServer((req, res) => void this.handle('api', req, res));
		this.oapiServer = http.createServer((req, res) => void this.handle('oapi', req, res));
		for (const server of [this.apiServer, this.oapiServer]) {
			server.keepAliveTimeout = 5000;
			server.on('connection', (socket) => {
				this.sockets.add(socket);
				socket.on('close', () => this.sockets.delete(socket));
			});
			await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
		}
		this.apiBaseUrl = `http://127.0.0.1:${this.apiServer.address().port}`;
		this.oapiBaseUrl = `http://127.0.0.1:${this.oapiServer.address().port}`;
		return this;
	}

	async stop() {
		for (const socket of this.sockets) socket.destroy();
		await Promise.all(
			[this.apiServer, this.oapiServer].map((server) => new Promise((resolve) => server.close(resolve))),
		);
	}

	/** Credential data for n8n pointing at this server (environment `custom`). */
	credentialData(overrides = {}) {
		const [clientId, clientSecret] = [...this.apps][0];
		return {
			appType: 'internal',
			clientId,
			clientSecret,
			environment: 'custom',
			apiBaseUrl: this.apiBaseUrl,
			oapiBaseUrl: this.oapiBaseUrl,
			accessToken: '',
			...overrides,
		};
	}

	// ---- the send side, so tests recall what was really sent ----

	sendRobotMessage(robotCode, { sentAt = Date.now() } = {}) {
		const key = `${randomBytes(12).toString('base64url')}==`;
		this.robotMessages.set(key, { robotCode, sentAt, recalled: false });
		return key;
	}

	sendRobotMessages(robotCode, count, options) {
		return Array.from({ length: count }, () => this.sendRobotMessage(robotCode, options));
	}

	sendWorkNotification(agentId) {
		const taskId = this.nextTaskId++;
		this.notifications.set(taskId, { agentId: String(agentId), recalled: false });
		return taskId;
	}

	isRecalled(key) {
		return this.robotMessages.get(key)?.recalled === true;
	}

	isNotificationRecalled(taskId) {
		return this.notifications.get(Number(taskId))?.recalled === true;
	}

	// ---- fault injection ----

	/** The next `count` calls to `path` get `type`: 500, 502, 503, html, empty, drop, timeout, 429, ban, tokenExpired. */
	injectFault(path, type, count = 1) {
		this.faultQueue.push({ path, type, remaining: count });
	}

	/** Expires every token now (the next call with one is told it is invalid or expired). */
	expireAllTokens() {
		for (const entry of this.tokens.values()) entry.expiresAt = 0;
	}

	callsTo(path) {
		return this.calls.filter((call) => call.path === path);
	}

	takeFault(path) {
		const fault = this.faultQueue.find((entry) => entry.path === path && entry.remaining > 0);
		if (!fault) return undefined;
		fault.remaining--;
		if (fault.remaining === 0) this.faultQueue.splice(this.faultQueue.indexOf(fault), 1);
		return fault.type;
	}

	// ---- HTTP ----

	async handle(host, req, res) {
		const url = new URL(req.url, 'http://127.0.0.1');
		const raw = await readBody(req);
		const call = {
			host,
			path: url.pathname,
			at: Date.now(),
			status: 0,
			headerToken: req.headers['x-acs-dingtalk-access-token'],
			queryToken: url.searchParams.get('access_token') ?? undefined,
			contentType: req.headers['content-type'],
			body: undefined,
		};
		if (this.record) this.calls.push(call);
		const send = (status, payload, contentType = 'application/json') => {
			call.status = status;
			const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
			res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
			res.end(text);
		};
		if (this.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));

		const fault = this.takeFault(url.pathname);
		if (fault && this.answerFault(fault, host, call, req, res, send)) return;

		const parsed = parseBody(raw, req.headers['content-type']);
		call.body = parsed.value;
		try {
			if (host === 'api') this.handleApi(url, parsed, call, send, fault);
			else this.handleOapi(url, parsed, call, send, fault);
		} catch (error) {
			send(500, { code: 'system.error', message: String(error), requestid: randomUUID() });
		}
	}

	/** Answers an injected fault; returns false for faults that change the normal answer instead. */
	answerFault(fault, host, call, req, res, send) {
		switch (fault) {
			case '500':
			case '502':
			case '503':
				if (host === 'api' && fault === '500') {
					send(500, { code: 'system.error', message: 'Unknown system error', requestid: randomUUID() });
				} else send(Number(fault), `<html><body><h1>${fault} Bad Gateway</h1></body></html>`, 'text/html');
				return true;
			case 'html':
				send(200, '<!DOCTYPE html><html><body>访问被拒绝 Access denied</body></html>', 'text/html');
				return true;
			case 'empty':
				send(200, '', 'application/json');
				return true;
			case 'ban':
				send(200, { status: 1111, wait: 1, message: 'ip banned' });
				return true;
			case '429':
				send(429, { code: 'system.busy', message: 'System busy', requestid: randomUUID() });
				return true;
			case 'systemBusy':
				if (host === 'oapi') send(200, { errcode: -1, errmsg: '系统繁忙', request_id: randomUUID() });
				else send(429, { code: 'systemBusy', message: 'System busy', requestid: randomUUID() });
				return true;
			case 'drop':
				call.status = -1;
				req.socket.destroy();
				return true;
			case 'timeout':
				// Never answer; the client's timeout ends it (the socket is destroyed on stop).
				call.status = -2;
				return true;
			case 'tokenExpired':
				this.expireAllTokens();
				return false;
			default:
				throw new Error(`unknown fault ${fault}`);
		}
	}

	issueToken(owner, reuse) {
		this.tokenFetches++;
		const now = Date.now();
		if (reuse) {
			const existing = this.tokenOfApp.get(owner);
			const entry = existing && this.tokens.get(existing);
			if (entry && entry.expiresAt > now) {
				entry.expiresAt = now + TOKEN_LIFETIME_SECONDS * 1000;
				return existing;
			}
		}
		const token = randomBytes(16).toString('hex');
		this.tokens.set(token, { owner, expiresAt: now + TOKEN_LIFETIME_SECONDS * 1000, recallCalls: 0 });
		this.tokenOfApp.set(owner, token);
		return token;
	}

	/** `missing`, `invalid`, `expired`, or the token's entry. */
	checkToken(token) {
		if (!token) return 'missing';
		const entry = this.tokens.get(token);
		if (!entry) return 'invalid';
		if (entry.expiresAt <= Date.now()) return 'expired';
		if (this.expireTokensAfter !== undefined && entry.recallCalls >= this.expireTokensAfter) {
			entry.expiresAt = 0;
			return 'expired';
		}
		return entry;
	}

	/** DingTalk's per-app, per-API limit: a sliding one-second window of admitted calls. */
	throttled(owner, path) {
		if (!this.rateLimitPerSecond) return false;
		const key = `${owner} ${path}`;
		const now = Date.now();
		const starts = (this.admitted.get(key) ?? []).filter((at) => at > now - 1000);
		if (starts.length >= this.rateLimitPerSecond) {
			this.admitted.set(key, starts);
			return true;
		}
		starts.push(now);
		this.admitted.set(key, starts);
		return false;
	}

	handleApi(url, parsed, call, send, fault) {
		const requestid = randomUUID();
		const apiError = (status, code, message) => send(status, { code, message, requestid });
		if (!parsed.ok) return apiError(400, 'MissingBody', 'The request body must be JSON');
		const body = parsed.value ?? {};

		if (url.pathname === PATHS.accessToken) {
			if (this.apps.get(body.appKey) === undefined || this.apps.get(body.appKey) !== body.appSecret) {
				return apiError(400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
			}
			return send(200, { accessToken: this.issueToken(body.appKey, true), expireIn: TOKEN_LIFETIME_SECONDS });
		}
		if (url.pathname === PATHS.corpAccessToken) {
			const suite = this.suites.get(body.suiteKey);
			if (!suite || suite.suiteSecret !== body.suiteSecret) return apiError(400, 'invalidSuiteKey', 'suiteKey或suiteSecret错误');
			if (suite.suiteTicket !== body.suiteTicket) return apiError(400, 'invalidSuiteTicket', 'suiteTicket无效');
			if (!suite.corps.includes(body.authCorpId)) return apiError(400, 'invalidAuthInfo', '企业未授权');
			return send(200, { accessToken: this.issueToken(`${body.suiteKey}/${body.authCorpId}`, false), expireIn: TOKEN_LIFETIME_SECONDS });
		}

		if (url.searchParams.has('access_token') && !call.headerToken) {
			return apiError(400, 'AuthenticationFailed.MissingParameter', 'x-acs-dingtalk-access-token is missing');
		}
		const token = this.checkToken(call.headerToken);
		if (token === 'missing') return apiError(400, 'AuthenticationFailed.MissingParameter', 'x-acs-dingtalk-access-token is missing');
		if (typeof token === 'string') return apiError(400, 'InvalidAuthentication', '不合法的access_token');
		if (this.throttled(token.owner, url.pathname)) {
			return apiError(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '调用该接口的QPS超过限制');
		}
		if (!this.permissions.ipAllowed) return apiError(403, 'Forbidden.AccessDenied.IpNotInWhiteList', 'ip not in white list');

		if (url.pathname === PATHS.batchRecall) {
			token.recallCalls++;
			if (!this.permissions.robot) {
				return apiError(403, 'Forbidden.AccessDenied.AccessTokenPermissionDenied', '没有调用该接口的权限，接口权限申请参考：qyapi_robot_sendmsg');
			}
			return this.batchRecall(body, call, send, apiError);
		}
		if (url.pathname === PATHS.batchSend) {
			if (!this.robots.has(body.robotCode)) return apiError(400, 'invalidParameter.robotCode', 'robot not exist');
			return send(200, { processQueryKey: this.sendRobotMessage(body.robotCode), invalidStaffIdList: [], flowControlledStaffIdList: [] });
		}
		return apiError(404, 'InvalidAction.NotFound', `Specified api is not found: ${url.pathname}`);
	}

	/**
	 * Robot one-on-one batch recall. `batchMode`:
	 * - `strict`: one unknown or expired key refuses the whole call (400 invalid.processQueryKey or
	 *   robot.processQueryKey.expired), as DingTalk may do;
	 * - `lenient`: such keys come back in `failedResult`;
	 * - `notRevoke`: any key not recalled makes it a 400 notRevoke.all.messages that still carries
	 *   `successResult` and `failedResult`.
	 * Another robot's key always refuses the call (400 not.allowed.robotCode); an already recalled
	 * message is always a `failedResult` entry.
	 */
	batchRecall(body, call, send, apiError) {
		const { robotCode, processQueryKeys: keys } = body;
		if (typeof robotCode !== 'string' || robotCode === '') return apiError(400, 'invalidParameter.param.invalid', 'robotCode is empty');
		if (!this.robots.has(robotCode)) return apiError(400, 'invalidParameter.robotCode', 'robot not exist');
		if (!Array.isArray(keys) || keys.length === 0) return apiError(400, 'invalidParameter.param.invalid', 'processQueryKeys is empty');
		if (keys.length > 20) return apiError(400, 'invalidParameter.processQueryKeys.overMax', 'processQueryKeys over max 20');
		if (keys.some((key) => typeof key !== 'string' || key.trim() === '')) {
			return apiError(400, 'invalidParameter.processQueryKey.missing', 'processQueryKey is missing');
		}

		const now = Date.now();
		const failedResult = {};
		const toRecall = [];
		for (const key of keys) {
			const message = this.robotMessages.get(key);
			if (message && message.robotCode !== robotCode) {
				return apiError(400, 'not.allowed.robotCode', `message ${key} was not sent by ${robotCode}`);
			}
			let reason;
			if (!message) reason = ['invalid.processQueryKey', 'processQueryKey is invalid'];
			else if (now - message.sentAt > DAY_MS) reason = ['robot.processQueryKey.expired', 'processQueryKey expired'];
			if (reason && this.batchMode === 'strict') return apiError(400, reason[0], `${reason[1]}: ${key}`);
			if (reason) failedResult[key] = reason[0];
			else if (message.recalled) failedResult[key] = 'message.already.recalled';
			else toRecall.push(message);
		}
		for (const message of toRecall) message.recalled = true;
		call.recalledKeys = keys.filter((key) => toRecall.includes(this.robotMessages.get(key)));
		const successResult = keys.filter((key) => !(key in failedResult));
		const requestid = randomUUID();
		if (this.batchMode === 'notRevoke' && Object.keys(failedResult).length) {
			return send(400, { code: 'notRevoke.all.messages', message: 'Not all messages were recalled', requestid, successResult, failedResult });
		}
		return send(200, { successResult: [...new Set(successResult)], failedResult, requestid });
	}

	handleOapi(url, parsed, call, send) {
		const request_id = randomUUID().replace(/-/g, '');
		const oapiError = (errcode, errmsg, extra = {}) => send(200, { errcode, errmsg, request_id, ...extra });
		const token = this.checkToken(call.queryToken);
		if (token === 'missing') {
			return oapiError(88, 'ding talk error[subcode=40000,submsg=access_token is blank]', { sub_code: '40000', sub_msg: 'access_token is blank' });
		}
		if (token === 'invalid') return oapiError(40014, '不合法的access_token');
		if (token === 'expired') return oapiError(42001, 'access_token超时');
		if (this.throttled(token.owner, url.pathname)) return oapiError(90018, '用户调用该接口的QPS超过限制');
		if (!this.permissions.ipAllowed) return oapiError(60020, '访问ip不在白名单之中');
		if (!parsed.ok) return oapiError(400002, '无效的参数');
		const body = parsed.value ?? {};

		if (url.pathname === PATHS.workNotificationRecall) {
			token.recallCalls++;
			const agentId = String(body.agent_id ?? '');
			const taskId = Number(body.msg_task_id);
			const notification = this.notifications.get(taskId);
			if (!/^\d+$/.test(agentId) || !/^\d+$/.test(String(body.msg_task_id ?? ''))) {
				return oapiError(400002, 'Invalid agentId or taskId');
			}
			if (!notification || notification.agentId !== agentId || notification.recalled) {
				return oapiError(400002, 'Invalid agentId or taskId');
			}
			notification.recalled = true;
			return oapiError(0, 'ok');
		}
		if (url.pathname === PATHS.workNotificationSend) {
			return oapiError(0, 'ok', { task_id: this.sendWorkNotification(body.agent_id) });
		}
		return send(404, '<html><body>404 Not Found</body></html>', 'text/html');
	}
}

module.exports = { DingTalkServer, PATHS };
