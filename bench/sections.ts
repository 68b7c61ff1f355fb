/** The sections of a bench run, in the order they run (its own module: the CLI reads it without loading the bench). */
export const BENCH_SECTIONS = ['processor', 'writes', 'pipeline', 'scan', 'memory'] as const;
export type BenchSection = (typeof BENCH_SECTIONS)[number];
