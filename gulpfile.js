const path = require('node:path');
const { task, src, dest } = require('gulp');

// tsc builds the code; n8n loads node and credential icons from files next to the built code.
task('build:icons', () =>
	src(['nodes/**/*.{png,svg}', 'credentials/**/*.{png,svg}'], { base: '.', encoding: false }).pipe(
		dest(path.resolve('dist')),
	),
);
