/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: 'node',
	// The tests are plain CommonJS: no transform, so a fresh clone pays no Babel cache.
	transform: {},
	// Two cores: jest would run one worker; the suite is mostly waiting on loopback sockets.
	maxWorkers: 2,
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.js'],
	testTimeout: 120000,
	// The tests load the built node: build first when a source changed since (`npm test` builds anyway).
	globalSetup: '<rootDir>/test/support/build-if-stale.js',
};
