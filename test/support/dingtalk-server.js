'use strict';
/**
 * A DingTalk-compatible server for tests, the demo and the benchmark, on 127.0.0.1.
 *
 * It models DingTalk as its real answers were recorded (public logs, probes, DingTalk's SDKs), where
 * they differ from its documentation: two hosts (`api` for /v1.0/ APIs with the token in the
 * `x-acs-dingtalk-access-token` header and `{code, message, requestid}` errors; `oapi` for /topapi/
 * APIs with the token in the `access_token` query parameter and HTTP 200 `{errcode, errmsg}` answers,
 * errcode 88 wrapping the real code as a string `sub_code` or only inside `errmsg`), tokens that
 * expire, messages that exist or not, robots that own their messages, group and private chats, read
 * status, and faults on demand: a per-API rate limit, 5xx, HTML and empty bodies, HTTP 200 bodies with
 * a `code`, dropped connections, answers lost after the recall happened, latency, token expiry.
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
	readStatus: '/v1.0/robot/oToMessages/readStatus',
	groupSend: '/v1.0/robot/groupMessages/send',
	groupRecall: '/v1.0/robot/groupMessages/recall',
	groupQuery: '/v1.0/robot/groupMessages/query',
	privateChatSend: '/v1.0/robot/privateChatMessages/send',
	privateChatRecall: '/v1.0/robot/privateChatMessages/batchRecall',
	privateChatQuery: '/v1.0/robot/privateChatMessages/query',
	workNotificationRecall: '/topapi/message/corpconversation/recall',
	workNotificationSend: '/topapi/message/corpconversation/asyncsend_v2',
	dingSend: '/v1.0/robot/ding/send',
	dingRecall: '/v1.0/robot/ding/recall',
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
		/** Group and private chats: openConversationId → { kind: 'group' | 'privateChat', robots: Set, stopped }. */
		this.conversations = new Map(
			Object.entries(
				options.conversations ?? {
					'cidGroupOps+A1/xyz==': { kind: 'group', robots: ['dingRobotA', 'dingRobotB'] },
					'cidGroupDev+B2/xyz==': { kind: 'group', robots: ['dingRobotA'] },
					'cidPrivate+C3/xyz==': { kind: 'privateChat', robots: ['dingRobotA'] },
				},
			).map(([id, { kind, robots, stopped = false }]) => [id, { kind, robots: new Set(robots), stopped }]),
		);
		/** How the oapi host says "throttled": `subCode` (errcode 88 + sub_code) or `errmsgOnly` (the subcode only inside errmsg). */
		this.oapiThrottleShape = options.oapiThrottleShape ?? 'subCode';
		/** Paths this deployment does not route (a proxy or private deployment without that API): 404 InvalidAction.NotFound. */
		this.unroutedPaths = new Set(options.unroutedPaths ?? []);
		/** Seconds an IP-ban answer asks to wait (DingTalk says 5; tests use less). */
		this.banWaitSeconds = options.banWaitSeconds ?? 1;
		/** How long a token lives (DingTalk: 7200 s); tests of expiry by the clock use less. */
		this.tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? TOKEN_LIFETIME_SECONDS;
		/** The organisation's people: every userId is one but these (and any starting with `unknown`). */
		this.unknownUsers = new Set(options.unknownUsers ?? []);
		/** People DingTalk filters out of a robot's one-on-one send (`filteredStaffIdList`, undocumented). */
		this.filteredUsers = new Set(options.filteredUsers ?? []);
		/** userId → how many more one-on-one sends flow-control them (`flowControlledStaffIdList`). */
		this.flowControlled = new Map(Object.entries(options.flowControlled ?? {}));
		/** How a one-on-one send with unknown users is answered: `list` (invalidStaffIdList) or `refuse` (400 staffId.notExisted). */
		this.unknownUsersAnswer = options.unknownUsersAnswer ?? 'list';
		/** What each person received: userId → [{ kind, id }]; a group's messages under its openConversationId. */
		this.inbox = new Map();

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
		/** Where the server reads the time: tests on a simulated clock hand it theirs. */
		this.clock = options.clock ?? { now: () => Date.now() };
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

	/**
	 * A robot message as DingTalk keeps it; returns its processQueryKey, standard base64 like DingTalk's
	 * (`+`, `/`, `=`). `openConversationId` sends it to a group or private chat instead of one-on-one.
	 */
	sendRobotMessage(robotCode, { sentAt = this.clock.now(), key, openConversationId } = {}) {
		const processQueryKey = key ?? randomBytes(32).toString('base64');
		const conversation = openConversationId === undefined ? undefined : this.conversations.get(openConversationId);
		if (openConversationId !== undefined && !conversation) throw new Error(`no conversation ${openConversationId}`);
		this.robotMessages.set(processQueryKey, {
			robotCode,
			sentAt,
			recalled: false,
			chat: conversation?.kind ?? 'oto',
			openConversationId,
		});
		return processQueryKey;
	}

	/** A robot message in a group or private chat (the chat's kind decides which). */
	sendChatMessage(robotCode, openConversationId, options = {}) {
		return this.sendRobotMessage(robotCode, { ...options, openConversationId });
	}

	sendChatMessages(robotCode, openConversationId, count, options) {
		return Array.from({ length: count }, () => this.sendChatMessage(robotCode, openConversationId, options));
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

	/**
	 * The next `count` calls to `path` get `type`: 500, 502, 503, html, empty, drop, timeout, 429, ban,
	 * busy200 (HTTP 200 `{code: "system.busy"}`), systemBusy, tokenExpired, lostAnswer (the recall happens,
	 * then the connection drops), lostAnswerTimeout (the recall happens, then no answer ever comes), silent
	 * (the recall happens; the 200 answer says nothing about the keys), or
	 * `failedReason:<reason>` (the messages are not recalled; each key comes back in `failedResult` with the reason),
	 * perKeyIn500 / perKeyIn400 (the recall happens; DingTalk's per-key answer comes at HTTP 500 with `system.error`, or at 400 with no code),
	 * proxy200 / empty200 (HTTP 200 with `{error}` or `{}`: not DingTalk's answer, nothing done),
 * permissionDenied (the app lost the robot permission), `refuse:<code>` (HTTP 400 with a code no document lists),
 * `refuseNamingBad:<code>` / `refuseNamingBadUnrecalled:<code>` (HTTP 400 with that code and a failedResult naming only
 * the bad keys; DingTalk recalled the others, or not), namesOtherKeys / namesOtherKeysActed (HTTP 200 whose successResult
 * names a key the call did not carry; the call's keys were not recalled, or were), echoToken (a refusal repeating the token),
 * or none (a normal answer: faults queue behind it). Faults on the token paths make the token API fail.
	 */
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

	/** Read-status queries for one key (both status APIs). */
	statusQueriesFor(key) {
		return this.calls.filter((call) => call.statusKey === key);
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
			method: req.method,
			path: url.pathname,
			at: this.clock.now(),
			status: 0,
			headerToken: req.headers['x-acs-dingtalk-access-token'],
			queryToken: url.searchParams.get('access_token') ?? undefined,
			contentType: req.headers['content-type'],
			body: undefined,
		};
		if (this.record) this.calls.push(call);
		this.onRequest?.(call);
		const send = (status, payload, contentType = 'application/json') => {
			call.status = status;
			call.code = typeof payload === 'object' ? (payload.code ?? payload.errcode) : undefined;
			call.answer = payload;
			const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
			res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
			res.end(text);
		};
		if (this.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));

		const parsed = parseBody(raw, req.headers['content-type']);
		call.body = parsed.value;
		call.formBody = /application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '');
		// Which message a read-status query asks about, whatever the answer (a fault's too).
		if (url.pathname === PATHS.readStatus) [call.statusRobot, call.statusKey] = [url.searchParams.get('robotCode'), url.searchParams.get('processQueryKey')];
		if (url.pathname === PATHS.groupQuery || url.pathname === PATHS.privateChatQuery) {
			[call.statusRobot, call.statusKey, call.statusChat] = [parsed.value?.robotCode, parsed.value?.processQueryKey, parsed.value?.openConversationId];
		}

		const fault = this.takeFault(url.pathname);
		if (fault && this.answerFault(fault, host, call, req, res, send)) return;
		// The answer is computed (a recall happens) whatever the fault; a lost answer then never reaches the caller.
		const scripted = typeof fault === 'object' ? fault : undefined;
		const answer = fault === 'lostAnswer' ? () => (call.status = -1, req.socket.destroy())
			: fault === 'lostAnswerTimeout' ? () => (call.status = -2)
			: scripted ? () => send(scripted.status, scripted.body, scripted.contentType)
			: send;
		call.fault = scripted ? 'answer' : fault;
		try {
			const named = scripted ? undefined : fault;
			if (host === 'api') this.handleApi(url, parsed, call, answer, named);
			else this.handleOapi(url, parsed, call, answer, named);
		} catch (error) {
			answer(500, { code: 'system.error', message: String(error), requestid: randomUUID() });
		}
		// A scripted answer names none of the keys the call recalled.
		if (scripted) delete call.reportedKeys;
		// A one-message recall (DING, work notification) that reached the caller reports what it recalled.
		else if ([PATHS.dingRecall, PATHS.workNotificationRecall].includes(call.path) && call.recalledKeys && !String(fault).startsWith('lostAnswer')) {
			call.reportedKeys = call.recalledKeys;
		}
	}

	/** Answers an injected fault; returns false for faults that change the normal answer instead. */
	answerFault(fault, host, call, req, res, send) {
		if (typeof fault === 'object') {
			if (fault.acted) return false;
			send(fault.status, fault.body, fault.contentType);
			return true;
		}
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
				send(200, { status: 1111, wait: this.banWaitSeconds, source: 'x5', punish: 'deny', uuid: randomUUID() });
				return true;
			case 'proxy200':
				// A 2xx JSON body that is not DingTalk's: a proxy or gateway answering in DingTalk's place.
				send(200, { error: 'upstream unavailable' });
				return true;
			case 'empty200':
				send(200, {});
				return true;
			case 'busy200':
				// Recorded: DingTalk's api host says "busy" with HTTP 200 and a body that has only a code.
				send(200, { code: 'system.busy', message: 'system.busy', requestid: randomUUID() });
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
			case 'echoToken':
				// A refusal whose message repeats the access token the call carried.
				send(400, { code: 'request.refused', message: `refused the call made with access_token=${call.headerToken ?? call.queryToken}`, requestid: randomUUID() });
				return true;
			case 'permissionDenied':
				send(403, { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied', message: '没有调用该接口的权限，接口权限申请参考：qyapi_robot_sendmsg', requestid: randomUUID() });
				return true;
			case 'none':
				return false;
			case 'lostAnswer':
			case 'lostAnswerTimeout':
			case 'silent':
			case 'perKeyIn500':
			case 'perKeyIn400':
			case 'namesOtherKeys':
			case 'namesOtherKeysActed':
				return false;
			default:
				if (/^(failedReason|refuseNamingBad|refuseNamingBadUnrecalled):/.test(fault)) return false;
				if (fault.startsWith('refuse:')) {
					// A whole-call refusal with a code no document lists (DingTalk adds codes without notice).
					send(400, { code: fault.slice('refuse:'.length), message: 'The call is not allowed', requestid: randomUUID() });
					return true;
				}
				throw new Error(`unknown fault ${fault}`);
		}
	}

	issueToken(owner, reuse) {
		this.tokenFetches++;
		const now = this.clock.now();
		if (reuse) {
			const existing = this.tokenOfApp.get(owner);
			const entry = existing && this.tokens.get(existing);
			if (entry && entry.expiresAt > now) {
				entry.expiresAt = now + this.tokenLifetimeSeconds * 1000;
				return existing;
			}
		}
		const token = randomBytes(16).toString('hex');
		this.tokens.set(token, { owner, expiresAt: now + this.tokenLifetimeSeconds * 1000, recallCalls: 0 });
		this.tokenOfApp.set(owner, token);
		return token;
	}

	/** `missing`, `invalid`, `expired`, or the token's entry. */
	checkToken(token) {
		if (!token) return 'missing';
		const entry = this.tokens.get(token);
		if (!entry) return 'invalid';
		if (entry.expiresAt <= this.clock.now()) return 'expired';
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
		const now = this.clock.now();
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
		const apiError = (status, code, message, extra = {}) => send(status, { code, message, requestid, ...extra });
		const route = `${call.method} ${url.pathname}`;
		// Recorded: a form body (or none that parses) where JSON belongs.
		if (!parsed.ok || (call.formBody && call.method === 'POST')) return apiError(400, 'Missingbody', 'body is mandatory for this action');
		const body = parsed.value ?? {};

		if (route === `POST ${PATHS.accessToken}`) {
			if (this.apps.get(body.appKey) === undefined || this.apps.get(body.appKey) !== body.appSecret) {
				return apiError(400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
			}
			return send(200, { accessToken: this.issueToken(body.appKey, true), expireIn: this.tokenLifetimeSeconds });
		}
		if (route === `POST ${PATHS.corpAccessToken}`) {
			const suite = this.suites.get(body.suiteKey);
			if (!suite || suite.suiteSecret !== body.suiteSecret) return apiError(400, 'invalidSuiteKey', 'suitekey不合法');
			if (suite.suiteTicket !== body.suiteTicket) return apiError(400, 'invalidSuiteTicket', 'suiteTicket无效');
			if (!suite.corps.includes(body.authCorpId)) return apiError(400, 'invalidAuthInfo', '企业未授权');
			return send(200, { accessToken: this.issueToken(`${body.suiteKey}/${body.authCorpId}`, false), expireIn: this.tokenLifetimeSeconds });
		}

		const handlers = {
			[`POST ${PATHS.batchRecall}`]: () => this.recall('oto', body, call, send, apiError, fault),
			[`POST ${PATHS.groupRecall}`]: () => this.recall('group', body, call, send, apiError, fault),
			[`POST ${PATHS.privateChatRecall}`]: () => this.recall('privateChat', body, call, send, apiError, fault),
			[`POST ${PATHS.batchSend}`]: () => this.send('oto', body, send, apiError),
			[`POST ${PATHS.groupSend}`]: () => this.send('group', body, send, apiError),
			[`POST ${PATHS.privateChatSend}`]: () => this.send('privateChat', body, send, apiError),
			[`GET ${PATHS.readStatus}`]: () =>
				this.readStatus({ robotCode: url.searchParams.get('robotCode'), processQueryKey: url.searchParams.get('processQueryKey') }, 'oto', call, send, apiError),
			[`POST ${PATHS.groupQuery}`]: () => this.readStatus(body, 'group', call, send, apiError),
			[`POST ${PATHS.privateChatQuery}`]: () => this.readStatus(body, 'privateChat', call, send, apiError),
			[`POST ${PATHS.dingSend}`]: () => this.dingSendAnswer(body, send, apiError),
			[`POST ${PATHS.dingRecall}`]: () => this.dingRecallAnswer(body, call, send, apiError),
		};
		const handler = this.unroutedPaths.has(url.pathname) ? undefined : handlers[route];
		if (!handler) return apiError(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');

		if (!call.headerToken) {
			return apiError(400, 'AuthenticationFailed.MissingParameter', '缺少参数：x-acs-dingtalk-access-token');
		}
		const token = this.checkToken(call.headerToken);
		if (typeof token === 'string') return apiError(400, 'InvalidAuthentication', '不合法的access_token');
		if (this.throttled(token.owner, url.pathname)) {
			return apiError(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '调用该接口的QPS超过限制');
		}
		if (!this.permissions.ipAllowed) {
			return apiError(403, 'Forbidden.AccessDenied.IpNotInWhiteList', '访问ip不在白名单之中，request ip=127.0.0.1 appKey(ding-app-key)');
		}
		if (!this.permissions.robot) {
			return apiError(403, 'Forbidden.AccessDenied.AccessTokenPermissionDenied', '没有调用该接口的权限，接口权限申请参考：qyapi_robot_sendmsg');
		}
		if (url.pathname.endsWith('ecall')) token.recallCalls++;
		return handler();
	}

	/** The conversation a group or private-chat call names, or the refusal DingTalk gives for it. */
	/** Why DingTalk refuses a group or private chat call as a whole ([status, code, message]), if it does. */
	conversationRefusal(chat, body) {
		const id = body.openConversationId;
		if (typeof id !== 'string' || id === '') return [400, 'miss.openConversationId', 'openConversationId is missing'];
		const conversation = this.conversations.get(id);
		if (!conversation || conversation.kind !== chat) return [400, 'invalid.openConversationId', `invalid openConversationId: ${id}`];
		if (conversation.stopped) return [400, 'bot.stopped', 'the robot is stopped in this conversation'];
		if (!conversation.robots.has(body.robotCode)) return [400, 'invalid.openConversationId', `robot ${body.robotCode} is not in conversation ${id}`];
		return undefined;
	}

	/** Delivers message `id` of `kind` to `recipients` (people, or a group's openConversationId). */
	deliver(kind, id, recipients) {
		for (const recipient of recipients) {
			if (!this.inbox.has(recipient)) this.inbox.set(recipient, []);
			this.inbox.get(recipient).push({ kind, id });
		}
	}

	/** How many messages `recipient` received (of `kind`, if given). */
	received(recipient, kind) {
		return (this.inbox.get(recipient) ?? []).filter((message) => kind === undefined || message.kind === kind).length;
	}

	isUnknownUser(userId) {
		return this.unknownUsers.has(userId) || String(userId).startsWith('unknown');
	}

	/** Robot send (one-on-one: batchSend; group, private chat: send). A one-on-one send names the people it did not reach. */
	send(chat, body, send, apiError) {
		if (!this.robots.has(body.robotCode)) return apiError(400, 'invalidParameter.robotCode', 'robot not exist');
		if (typeof body.msgKey !== 'string' || body.msgKey === '') return apiError(400, 'invalidParameter.msgKey', 'msgKey is required');
		let param;
		try {
			param = JSON.parse(body.msgParam);
		} catch {
			return apiError(400, 'invalidParameter.msgParam', 'msgParam must be a JSON string');
		}
		if (param === null || typeof param !== 'object') return apiError(400, 'invalidParameter.msgParam', 'msgParam must be a JSON object');
		if (chat === 'oto') {
			const userIds = body.userIds;
			if (!Array.isArray(userIds) || userIds.length === 0) return apiError(400, 'invalidParameter.userIds', 'userIds is required');
			if (userIds.length > 20) return apiError(400, 'invalidParameter.userIds.overMax', 'userIds over max 20');
			const invalid = userIds.filter((userId) => this.isUnknownUser(userId));
			if (invalid.length && this.unknownUsersAnswer === 'refuse') return apiError(400, 'staffId.notExisted', `staffId not existed: ${invalid.join(',')}`);
			const flowControlled = userIds.filter((userId) => !invalid.includes(userId) && this.flowControlled.get(userId) > 0);
			for (const userId of flowControlled) this.flowControlled.set(userId, this.flowControlled.get(userId) - 1);
			const filtered = userIds.filter((userId) => this.filteredUsers.has(userId));
			const reached = userIds.filter((userId) => ![...invalid, ...flowControlled, ...filtered].includes(userId));
			const processQueryKey = this.sendRobotMessage(body.robotCode);
			this.deliver('robot', processQueryKey, reached);
			return send(200, { processQueryKey, invalidStaffIdList: invalid, flowControlledStaffIdList: flowControlled, filteredStaffIdList: filtered });
		}
		const refusal = this.conversationRefusal(chat, body);
		if (refusal) return apiError(...refusal);
		if (Buffer.byteLength(body.msgParam) > 15000) return apiError(400, 'invalidParameter.msgParam.length', 'msgParam is longer than 15000 bytes');
		const processQueryKey = this.sendChatMessage(body.robotCode, body.openConversationId);
		this.deliver('robot', processQueryKey, [body.openConversationId]);
		return send(200, { processQueryKey });
	}

	/** A message of this chat kind (and conversation), or the reason DingTalk refuses its key. */
	messageFor(chat, key, robotCode, openConversationId) {
		const message = this.robotMessages.get(key);
		if (!message || message.chat !== chat || (chat !== 'oto' && message.openConversationId !== openConversationId)) {
			return { reason: ['invalid.processQueryKey', 'processQueryKey is invalid'] };
		}
		if (message.robotCode !== robotCode) return { foreign: true, message };
		if (this.clock.now() - message.sentAt > DAY_MS) {
			return { reason: chat === 'oto' ? ['robot.processQueryKey.expired', 'processQueryKey expired'] : ['processQueryKey.expireTime', 'processQueryKey expired'] };
		}
		return { message };
	}

	/**
	 * Robot batch recall (one-on-one, group, private chat). `batchMode`:
	 * - `strict`: one unknown or expired key refuses the whole call (400 invalid.processQueryKey or
	 *   robot.processQueryKey.expired), as DingTalk may do;
	 * - `lenient`: such keys come back in `failedResult`;
	 * - `notRevoke`: any key not recalled makes it a 400 notRevoke.all.messages that still carries
	 *   `successResult` and `failedResult`;
	 * - `notRevokeBare`: the same 400 with no per-key results, though the other keys were recalled.
	 * Another robot's key always refuses the call (400 not.allowed.robotCode); an already recalled
	 * message is always a `failedResult` entry. A group or private chat that is missing, unknown or whose
	 * robot was stopped refuses the call as a whole.
	 */
	recall(chat, body, call, send, apiError, fault) {
		const { robotCode, processQueryKeys: keys } = body;
		if (typeof robotCode !== 'string' || robotCode === '') return apiError(400, 'invalidParameter.param.invalid', 'robotCode is empty');
		if (!this.robots.has(robotCode)) return apiError(400, 'invalidParameter.robotCode', 'robot not exist');
		if (chat !== 'oto') {
			const refusal = this.conversationRefusal(chat, body);
			if (refusal) return apiError(...refusal);
		}
		if (!Array.isArray(keys) || keys.length === 0) return apiError(400, 'invalidParameter.param.invalid', 'processQueryKeys is empty');
		if (keys.length > 20) return apiError(400, 'invalidParameter.processQueryKeys.overMax', 'processQueryKeys over max 20');
		if (keys.some((key) => typeof key !== 'string' || key.trim() === '')) {
			return apiError(400, 'invalidParameter.processQueryKey.missing', 'processQueryKey is missing');
		}

		const failedReason = fault?.startsWith('failedReason:') ? fault.slice('failedReason:'.length) : undefined;
		// A whole-call refusal whose failedResult names only the bad keys, DingTalk having recalled the others (or not: `Unrecalled`).
		let namingBad = /^refuseNamingBad(Unrecalled)?:(.+)$/.exec(fault ?? '');
		const failedResult = {};
		const toRecall = [];
		for (const key of keys) {
			const { message, reason, foreign } = this.messageFor(chat, key, robotCode, body.openConversationId);
			if (foreign) return apiError(400, 'not.allowed.robotCode', `message ${key} was not sent by ${robotCode}`);
			if (reason && this.batchMode === 'strict' && !namingBad) return apiError(400, reason[0], `${reason[1]}: ${key}`);
			if (reason) failedResult[key] = reason[0];
			else if (message.recalled) failedResult[key] = 'message.already.recalled';
			else if (failedReason) failedResult[key] = failedReason;
			else toRecall.push(message);
		}
		const requestid = randomUUID();
		// A call without a bad key is answered as usual: DingTalk has no key to refuse it for.
		if (namingBad && !Object.keys(failedResult).some((key) => failedResult[key] !== 'message.already.recalled')) namingBad = null;
		if (namingBad) {
			if (!namingBad[1]) for (const message of toRecall) message.recalled = true;
			call.recalledKeys = namingBad[1] ? [] : keys.filter((key) => toRecall.includes(this.robotMessages.get(key)));
			return send(400, { code: namingBad[2], message: `${namingBad[2]}: some keys are not valid`, requestid, failedResult });
		}
		// An answer about other keys than the call's: a caching proxy's, say (`Acted`: the call's keys were recalled all the same).
		if (fault === 'namesOtherKeys' || fault === 'namesOtherKeysActed') {
			if (fault === 'namesOtherKeysActed') for (const message of toRecall) message.recalled = true;
			call.recalledKeys = fault === 'namesOtherKeysActed' ? keys.filter((key) => toRecall.includes(this.robotMessages.get(key))) : [];
			return send(200, { successResult: [randomBytes(32).toString('base64')], failedResult: {}, requestid });
		}
		for (const message of toRecall) message.recalled = true;
		call.recalledKeys = keys.filter((key) => toRecall.includes(this.robotMessages.get(key)));
		const successResult = keys.filter((key) => !(key in failedResult));
		if (this.batchMode.startsWith('notRevoke') && Object.keys(failedResult).length) {
			const perKey = this.batchMode === 'notRevoke' ? { successResult, failedResult } : {};
			if (this.batchMode === 'notRevoke' && !fault?.startsWith('lostAnswer')) call.reportedKeys = successResult;
			return send(400, { code: 'notRevoke.all.messages', message: 'Not all messages were recalled', requestid, ...perKey });
		}
		if (fault === 'silent') return send(200, { requestid });
		// DingTalk's per-key answer, at an error status: with a code (a 500 that still lists the keys) or without one.
		if (fault === 'perKeyIn500' || fault === 'perKeyIn400') {
			call.reportedKeys = successResult;
			const code = fault === 'perKeyIn500' ? { code: 'system.error', message: 'internal error' } : {};
			return send(fault === 'perKeyIn500' ? 500 : 400, { ...code, successResult: [...new Set(successResult)], failedResult, requestid });
		}
		// The keys the answer names as recalled, where the answer is not lost on its way.
		if (!fault?.startsWith('lostAnswer')) call.reportedKeys = successResult;
		return send(200, { successResult: [...new Set(successResult)], failedResult, requestid });
	}

	/** Read status of one robot message: one-on-one (GET readStatus), group or private chat (POST …Messages/query, one answer shape). */
	readStatus(query, chat, call, send, apiError) {
		const { robotCode, processQueryKey } = query;
		call.statusKey = processQueryKey;
		call.statusRobot = robotCode;
		if (!this.robots.has(robotCode)) return apiError(400, 'invalidParameter.robotCode', 'robot not exist');
		if (chat !== 'oto') {
			const refusal = this.conversationRefusal(chat, query);
			if (refusal) return apiError(...refusal);
		}
		if (typeof processQueryKey !== 'string' || processQueryKey === '') {
			return apiError(400, 'invalidParameter.processQueryKey.missing', 'processQueryKey is missing');
		}
		const { message, reason, foreign } = this.messageFor(chat, processQueryKey, robotCode, query.openConversationId);
		if (foreign) return apiError(400, 'not.allowed.robotCode', `message was not sent by ${robotCode}`);
		if (reason) return apiError(400, reason[0], reason[1]);
		const sendStatus = message.recalled ? 'RECALLED' : 'SUCCESS';
		if (chat !== 'oto') return send(200, { sendStatus, readUserIds: [], hasMore: false });
		return send(200, { sendStatus, messageReadInfoList: [{ name: '张三', userId: 'manager01', readStatus: 'UNREAD', readTimestamp: 0 }] });
	}

	// ---- robot DING messages (Professional and Exclusive editions, permission Premium.Ding.Write) ----

	/** openDingId → { robotCode, recalled }. */
	get dings() {
		this.dingStore ??= new Map();
		return this.dingStore;
	}

	/** A DING the robot sent; returns its openDingId. */
	sendDing(robotCode) {
		const openDingId = randomBytes(16).toString('hex');
		this.dings.set(openDingId, { robotCode, recalled: false });
		return openDingId;
	}

	sendDings(robotCode, count) {
		return Array.from({ length: count }, () => this.sendDing(robotCode));
	}

	isDingRecalled(openDingId) {
		return this.dings.get(openDingId)?.recalled === true;
	}

	/** `permissions: { ding: false }`: an organisation without the edition, or an app without Premium.Ding.Write. */
	dingRefusal(apiError) {
		if (this.permissions.ding !== false) return false;
		apiError(403, 'Forbidden.AccessDenied.AccessTokenPermissionDenied', '没有调用该接口的权限，接口权限申请参考：Premium.Ding.Write');
		return true;
	}

	/** POST /v1.0/robot/ding/send {robotCode, remindType, receiverUserIdList, content} → {openDingId}. */
	dingSendAnswer(body, send, apiError) {
		if (this.dingRefusal(apiError)) return;
		const { robotCode, remindType, receiverUserIdList: receivers, content } = body;
		const most = Number(remindType) === 1 ? 200 : 20;
		if (typeof robotCode !== 'string' || robotCode === '' || ![1, 2, 3].includes(Number(remindType))
			|| !Array.isArray(receivers) || receivers.length === 0 || receivers.length > most
			|| typeof content !== 'string' || content === '') {
			return apiError(400, 'invalidParameter.param.invalid', 'robotCode, remindType (1, 2, 3), receiverUserIdList and content are required');
		}
		if (!this.robots.has(robotCode)) return apiError(400, 'invalidParameter.robotCode', 'robot not exist');
		const failedList = Object.fromEntries(receivers.filter((userId) => this.isUnknownUser(userId)).map((userId) => [userId, 'staffId not existed']));
		const openDingId = this.sendDing(robotCode);
		this.deliver('ding', openDingId, receivers.filter((userId) => !(userId in failedList)));
		return send(200, { openDingId, ...(Object.keys(failedList).length ? { failedList } : {}) });
	}

	/** POST /v1.0/robot/ding/recall {robotCode, openDingId} → {openDingId}; every refusal a 400 recall.ding.exception <detail>. */
	dingRecallAnswer(body, call, send, apiError) {
		if (this.dingRefusal(apiError)) return;
		const { robotCode, openDingId } = body;
		if (typeof robotCode !== 'string' || robotCode === '' || typeof openDingId !== 'string' || openDingId === '') {
			return apiError(400, 'invalidParameter.param.invalid', 'robotCode and openDingId are required');
		}
		const refused = (detail) => apiError(400, 'recall.ding.exception', `recall.ding.exception ${detail}`);
		const ding = this.dings.get(openDingId);
		if (!ding) return refused(`ding not exist: ${openDingId}`);
		if (ding.robotCode !== robotCode) return refused(`ding was not sent by robot ${robotCode}`);
		if (ding.recalled) return refused('ding has already been recalled');
		ding.recalled = true;
		call.recalledKeys = [openDingId];
		return send(200, { openDingId, requestid: randomUUID() });
	}

	handleOapi(url, parsed, call, send, fault) {
		const request_id = Math.random().toString(36).slice(2, 15);
		const oapiError = (errcode, errmsg, extra = {}) => send(200, { errcode, errmsg, request_id, ...extra });
		const topapi = url.pathname.startsWith('/topapi/');
		/** `/topapi/` wraps the real code as errcode 88 with a string sub_code (or, in some answers, only inside errmsg). */
		const wrapped = (subCode, subMsg, { errmsgOnly = false } = {}) =>
			oapiError(88, `ding talk error[subcode=${subCode},submsg=${subMsg}]`, errmsgOnly ? {} : { sub_code: String(subCode), sub_msg: subMsg });
		// Recorded: the token in the query (SDKs) or in a form body.
		const token = this.checkToken(call.queryToken ?? (call.formBody ? parsed.value?.access_token : undefined));
		if (token === 'missing') return wrapped(40000, 'access_token is blank');
		if (typeof token === 'string') return topapi ? wrapped(40014, '不合法的access_token') : oapiError(40014, '不合法的access_token');
		const handlers = {
			[PATHS.workNotificationRecall]: () => this.recallWorkNotification(parsed.value ?? {}, oapiError, call),
			[PATHS.workNotificationSend]: () => this.sendWorkNotificationAnswer(parsed.value ?? {}, oapiError),
		};
		const handler = call.method === 'POST' ? handlers[url.pathname] : undefined;
		if (!handler) return oapiError(22, `Invalid method[${url.pathname.replace(/^\//, '').replace(/\//g, '.')}]`);
		if (this.throttled(token.owner, url.pathname)) {
			return this.oapiThrottleShape === 'errmsgOnly'
				? wrapped(90002, '当前所有钉钉应用调用该接口次数过多，请稍后重试', { errmsgOnly: true })
				: wrapped(90018, '当前应用调用该接口的QPS超过限制');
		}
		if (!this.permissions.ipAllowed) return oapiError(60020, '访问ip不在白名单之中');
		if (!parsed.ok) return oapiError(400002, '无效的参数');
		if (url.pathname === PATHS.workNotificationRecall) token.recallCalls++;
		return handler();
	}

	/** asyncsend_v2 {agent_id, userid_list: "a,b", msg}: DingTalk accepts the task; whom it reached only getsendresult tells. */
	sendWorkNotificationAnswer(body, oapiError) {
		if (!this.agents.has(String(body.agent_id ?? ''))) return oapiError(88, 'ding talk error[subcode=40056,submsg=不合法的agentid]', { sub_code: '40056', sub_msg: '不合法的agentid' });
		const userIds = String(body.userid_list ?? '').split(',').filter(Boolean);
		if (!userIds.length) return oapiError(1430000, '接受者为空');
		if (userIds.length > 5000) return oapiError(88, 'ding talk error[subcode=40035,submsg=userid_list too long]', { sub_code: '40035', sub_msg: 'userid_list too long' });
		const msg = typeof body.msg === 'string' ? JSON.parse(body.msg) : body.msg;
		if (!msg || typeof msg !== 'object' || typeof msg.msgtype !== 'string') return oapiError(40035, '不合法的参数: msg');
		const taskId = this.sendWorkNotification(body.agent_id);
		this.deliver('workNotification', taskId, userIds.filter((userId) => !this.isUnknownUser(userId)));
		return oapiError(0, 'ok', { task_id: taskId });
	}

	recallWorkNotification(body, oapiError, call) {
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
		call.recalledKeys = [String(taskId)];
		return oapiError(0, 'ok');
	}
}

module.exports = { DingTalkServer, PATHS };
