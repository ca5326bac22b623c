// The rules n8n's community-package scanner applies: @n8n/eslint-plugin-community-nodes (recommended),
// no-console, and eslint-plugin-n8n-nodes-base (community rules on package.json, credentials and
// nodes rules). `npm run lint` checks the sources; `npm run lint:scanner` also checks the packed
// package's JavaScript, with inline disables not honoured.
import tsParser from '@typescript-eslint/parser';
import communityNodes from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';

/**
 * Rules switched off, each because it contradicts another rule of the same rule sets or SPEC.md; nothing
 * else is switched off, and no file disables a rule inline.
 */
const contradictions = {
	// A main-repository rule (its own docs say so): community credentials link to the vendor's docs
	// with a full URL, which @n8n/community-nodes/credential-documentation-url accepts.
	'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
	// n8n-nodes-base demands a password field for suiteKey (an error) and SPEC.md one for suiteTicket;
	// this warning asks the opposite for both.
	'@n8n/community-nodes/credential-unnecessary-password': 'off',
	// These two predate NodeConnectionTypes: they demand the literal ['main'] that
	// @n8n/community-nodes/node-connection-type-literal forbids, and a single output, while the node's
	// contract (SPEC.md) is two outputs, Success and Failed.
	'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
	'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
};

/** The scanner's rule sets for a package laid out as `credentials`, `nodes` (or their built `dist`) and `package.json`. */
export function scannerConfig({ credentials, nodes }) {
	const plugins = { 'n8n-nodes-base': n8nNodesBase };
	return [
		{
			files: [...credentials, ...nodes, 'package.json'],
			languageOptions: { parser: tsParser, parserOptions: { sourceType: 'module', extraFileExtensions: ['.json'] } },
		},
		{ ...communityNodes.configs.recommended, files: [...credentials, ...nodes, 'package.json'] },
		{ files: ['package.json'], plugins, rules: n8nNodesBase.configs.community.rules },
		{ files: credentials, plugins, rules: { ...n8nNodesBase.configs.credentials.rules, 'no-console': 'error' } },
		{ files: nodes, plugins, rules: { ...n8nNodesBase.configs.nodes.rules, 'no-console': 'error' } },
		{ files: [...credentials, ...nodes, 'package.json'], rules: contradictions },
	];
}

export default [
	{ ignores: ['dist/**', 'node_modules/**', 'test/**', '.cache/**', 'gulpfile.js', 'index.js'] },
	...scannerConfig({ credentials: ['credentials/**/*.ts'], nodes: ['nodes/**/*.ts'] }),
];
