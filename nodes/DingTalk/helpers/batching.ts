/** Splits a list into consecutive slices of at most `size` entries. */
export function chunk<T>(list: readonly T[], size: number): T[][] {
	const slices: T[][] = [];
	for (let start = 0; start < list.length; start += size) slices.push(list.slice(start, start + size));
	return slices;
}

/** Each value once per pool, in the order first seen: DingTalk is asked once per unique key. */
export function uniqueByPool(entries: Iterable<{ pool: string; value: string }>): Map<string, string[]> {
	const seen = new Map<string, Set<string>>();
	for (const { pool, value } of entries) {
		let values = seen.get(pool);
		if (!values) seen.set(pool, (values = new Set()));
		values.add(value);
	}
	return new Map([...seen].map(([pool, values]) => [pool, [...values]]));
}

/** Runs `worker` over `tasks`, at most `concurrency` at once, none started once `shouldStop` says so. */
export async function runWithConcurrency<T>(
	tasks: readonly T[],
	concurrency: number,
	worker: (task: T) => Promise<void>,
	shouldStop: () => boolean = () => false,
): Promise<void> {
	let next = 0;
	const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, tasks.length)) }, async () => {
		while (next < tasks.length && !shouldStop()) {
			const task = tasks[next++];
			await worker(task);
		}
	});
	await Promise.all(lanes);
}
