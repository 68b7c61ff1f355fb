/**
 * Helpers every command shares: config loading, common options, output.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { type ResolvedConfig, resolveConfig, type ShardlineConfigInput } from '../common/config.ts';
import { UsageError } from '../common/errors.ts';
import { parseTimestamp } from '../queries/catalog.ts';
import { cliEnvironment } from './env.ts';

/** Default folder of the local cloud's state. */
export const DEFAULT_DATA_DIR = '.shardline';

/** Loads `shardline.config.ts` (or `--config FILE`) and resolves it. */
export async function loadConfig(file?: string): Promise<ResolvedConfig> {
  const path = resolve(file ?? cliEnvironment().configFile ?? 'shardline.config.ts');
  if (!existsSync(path)) {
    if (file !== undefined) throw new UsageError(`--config: no such file ${path}`);
    return resolveConfig({});
  }
  const mod = (await import(pathToFileURL(path).href)) as { default?: ShardlineConfigInput };
  return resolveConfig(mod.default ?? {});
}

/** Adds `--config FILE` and `--data-dir DIR`. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'config file (default: shardline.config.ts)')
    .option('--data-dir <dir>', 'local cloud state folder', DEFAULT_DATA_DIR);
}

/** Parses a non-negative integer option, with a message naming the option and the value received. */
export function parseIntOption(name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new UsageError(
        `${name} must be an integer between ${min} and ${max}; got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

/** Parses a time option: ISO-8601, epoch ms, or relative like `-1h`, `-30m`, `now`. */
export function parseTime(name: string) {
  return (value: string): number => {
    const ms = parseTimestamp(value, Date.now());
    if (ms === undefined) {
      throw new UsageError(
        `${name} must be ISO-8601, epoch ms, "now" or relative like -1h; got ${JSON.stringify(value)}`,
      );
    }
    return ms;
  };
}

/** Writes one JSON document to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Renders rows as an aligned text table. */
export function formatTable(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = columns ?? Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => formatCell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: readonly string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, '');
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Resolves on the first SIGINT or SIGTERM (for commands that serve until stopped). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * Progress of the Athena queries a command runs (`--target aws`): one stderr line per state change of each
 * query execution, so a long run shows what it waits for (stdout stays the command's output).
 */
export function athenaProgress(): (state: string, queryExecutionId: string) => void {
  const last = new Map<string, string>();
  return (state, id) => {
    if (last.get(id) === state) return;
    last.set(id, state);
    process.stderr.write(`athena ${id}: ${state}\n`);
  };
}
