/** @type {import('jest').Config} End-to-end tests in a real n8n: `npm run test:e2e`. */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.e2e.js'],
	testTimeout: 600000,
	maxWorkers: 1,
};
