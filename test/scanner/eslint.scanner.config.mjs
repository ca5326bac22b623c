// The rule sets of n8n's community-package scanner (@n8n/scan-community-package), applied more strictly
// than the scanner does: @n8n/eslint-plugin-community-nodes (recommended) and no-console on every file,
// eslint-plugin-n8n-nodes-base (community rules on package.json, credentials and nodes rules) on the
// sources and on their built JavaScript. Inline disables are not honoured and `npm run lint:scanner`
// fails on any warning. The repository's eslint.config.mjs stays n8n-node's default, which n8n Cloud
// verification requires.
import tsParser from '@typescript-eslint/parser';
import communityNodes from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';

const plugins = { 'n8n-nodes-base': n8nNodesBase };

/**
 * @n8n/community-nodes/credential-unnecessary-password, except for the suite ticket: SPEC.md makes it a
 * password field, and the rule knows only secret-sounding names ("ticket" is not one). Every other
 * field stays checked, which switching the rule off would not do.
 */
const unnecessaryPassword = communityNodes.rules['credential-unnecessary-password'];
const project = {
	rules: {
		'credential-unnecessary-password': {
			...unnecessaryPassword,
			create: (context) =>
				unnecessaryPassword.create(
					Object.create(context, {
						report: { value: (problem) => problem.data?.fieldName === 'suiteTicket' || context.report(problem) },
					}),
				),
		},
	},
};

/** Where the credentials and nodes are: the sources, and the built JavaScript in the packed tarball. */
const credentials = ['credentials/**/*.ts', 'dist/credentials/**/*.js'];
const nodes = ['nodes/**/*.ts', 'dist/nodes/**/*.js'];

export default [
	{
		files: ['**/*.{ts,js,json}'],
		languageOptions: { parser: tsParser, parserOptions: { sourceType: 'module', extraFileExtensions: ['.json'] } },
		// An inline `eslint-disable` is not honoured, and ESLint reports it as a warning.
		linterOptions: { noInlineConfig: true },
	},
	{ ...communityNodes.configs.recommended, files: ['**/*.{ts,js,json}'] },
	{ files: ['**/*.{ts,js,json}'], rules: { 'no-console': 'error' } },
	{ files: ['package.json'], plugins, rules: n8nNodesBase.configs.community.rules },
	{
		files: credentials,
		plugins: { ...plugins, project },
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			// Switched off by n8n itself (n8n-node lint's default config and the scanner): community
			// credentials link to the vendor's docs with a full URL, and which fields are secrets is
			// @n8n/community-nodes/credential-password-field's call (it keeps suiteKey a plain string).
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
			'n8n-nodes-base/cred-class-field-type-options-password-missing': 'off',
			// The same warning, less the suite ticket (see above).
			'@n8n/community-nodes/credential-unnecessary-password': 'off',
			'project/credential-unnecessary-password': 'warn',
		},
	},
	{
		files: nodes,
		plugins,
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			// Switched off by n8n itself: they predate NodeConnectionTypes and demand the literal ['main']
			// that @n8n/community-nodes/node-connection-type-literal forbids, and a single output, while the
			// node's contract (SPEC.md) is two outputs, Success and Failed.
			'n8n-nodes-base/node-class-description-inputs-wrong-regular-node': 'off',
			'n8n-nodes-base/node-class-description-outputs-wrong': 'off',
		},
	},
	// The rule asks for the `.node.ts` source name; a packed package can only hold the built `.node.js`.
	{ files: ['dist/nodes/**/*.js'], rules: { 'n8n-nodes-base/node-filename-against-convention': 'off' } },
];
