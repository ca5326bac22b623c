/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.js'],
	testTimeout: 120000,
	// The tests load the built node: build first when a source changed since (`npm test` builds anyway).
	globalSetup: '<rootDir>/test/support/build-if-stale.js',
};
