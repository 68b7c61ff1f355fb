/**
 * `shardline query <name|file.sql>`: runs a catalog query on DuckDB over the local archive (default) or on
 * Athena over the deployed Glue tables (`--engine athena`, which implies `--target aws`), and reports the
 * bytes scanned and what they cost at Athena's price. Ctrl-C stops a running Athena query.
 * `shardline query --list`: lists the catalog.
 */
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import { athenaClient } from '../../queries/athena/client.ts';
import { loadCatalog, parseParamAssignments } from '../../queries/catalog.ts';
import type { Row } from '../../queries/engine/duckdb.ts';
import { type RunQueryResult, runQuery } from '../../queries/run.ts';
import { formatTable, loadConfig, printJson, withCommonOptions } from '../shared.ts';
import { resolveAwsTarget, type TargetName, withTargetOptions } from '../target.ts';

const FORMATS = ['table', 'json', 'csv'] as const;
const ENGINES = ['duckdb', 'athena'] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Renders rows as RFC 4180 CSV with a header line. */
export function toCsv(columns: readonly string[], rows: readonly Row[]): string {
  return [
    columns.map(csvCell).join(','),
    ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(',')),
  ].join('\n');
}

/** One line about what the query read and what that costs on Athena. */
export function scanSummary(result: RunQueryResult): string {
  const s = result.stats;
  const mb = (b: number) => (b / 2 ** 20).toFixed(b >= 2 ** 20 ? 1 : 3);
  const files = s.filesScanned === null ? '' : ` in ${s.filesScanned} files`;
  const cost =
    result.engine === 'athena'
      ? `billed ${mb(s.cost.billedBytes)} MB = $${s.cost.usd.toFixed(6)}`
      : `on Athena: billed ${mb(s.cost.billedBytes)} MB = $${s.cost.usd.toFixed(6)}`;
  const id = result.engine === 'athena' ? `; query ${result.queryExecutionId}` : '';
  return `${result.rows.length} rows; ${result.engine} scanned ${s.bytesScanned} bytes (${mb(s.bytesScanned)} MB)${files}; ${cost}; ${Math.round(s.elapsedMs)} ms${id}`;
}

interface QueryFlags {
  param: string[];
  engine: string;
  format: string;
  list?: boolean;
  json?: boolean;
  config?: string;
  dataDir: string;
  target: TargetName;
  stack?: string;
}

export function register(program: Command): void {
  withTargetOptions(
    withCommonOptions(
      program
        .command('query')
        .description(
          'run a catalog query (Athena SQL) on the local archive with DuckDB, or on Athena with --engine athena',
        )
        .argument('[query]', 'catalog query name or path to a .sql file')
        .option(
          '--param <k=v>',
          'query parameter (repeatable)',
          (v: string, acc: string[]) => [...acc, v],
          [] as string[],
        )
        .option(
          '--engine <engine>',
          'query engine: duckdb (local archive) or athena (implies --target aws)',
          'duckdb',
        )
        .option('--format <format>', 'output: table, json or csv', 'table')
        .option('--list', 'list the catalog queries and their params')
        .option('--json', 'same as --format json'),
    ),
  ).action(async (name: string | undefined, opts: QueryFlags, cmd: Command) => {
    if (opts.list) {
      const catalog = loadCatalog();
      if (opts.json) {
        printJson(catalog.map(({ name: n, description, params }) => ({ name: n, description, params })));
        return;
      }
      for (const q of catalog) {
        process.stdout.write(`${q.name}\n  ${q.description}\n`);
        for (const p of q.params) {
          const how = p.required ? 'required' : `default ${p.default}`;
          process.stdout.write(`    --param ${p.name}=<${p.type}>  (${how}) ${p.description}\n`);
        }
      }
      return;
    }
    if (name === undefined) throw new UsageError('query: give a query name or file, or --list');
    if (!(ENGINES as readonly string[]).includes(opts.engine)) {
      throw new UsageError(`--engine must be one of ${ENGINES.join(', ')}; received "${opts.engine}"`);
    }
    const format = opts.json ? 'json' : opts.format;
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}; received "${format}"`);
    }
    const targetGiven = cmd.getOptionValueSource('target') !== 'default';
    const target: TargetName = opts.engine === 'athena' && !targetGiven ? 'aws' : opts.target;
    if (opts.engine === 'athena' && target !== 'aws') {
      throw new UsageError(
        '--engine athena runs on a deployed stack: use --target aws (or leave --target out); locally use --engine duckdb',
      );
    }
    if (opts.engine === 'duckdb' && target === 'aws') {
      throw new UsageError(
        '--engine duckdb reads the local archive folder; with --target aws use --engine athena',
      );
    }
    const params = parseParamAssignments(opts.param);
    let config = await loadConfig(opts.config);
    let result: RunQueryResult;
    if (opts.engine === 'athena') {
      config = (await resolveAwsTarget(config, { target: 'aws', stack: opts.stack })).config;
      const client = athenaClient({ region: config.region });
      const ac = new AbortController();
      const onSigint = () => {
        process.stderr.write('\nstopping the Athena query (Ctrl-C)...\n');
        ac.abort();
      };
      process.once('SIGINT', onSigint);
      let last = '';
      try {
        result = await runQuery({
          engine: 'athena',
          query: name,
          params,
          config,
          dataDir: opts.dataDir,
          athena: {
            client,
            signal: ac.signal,
            onState: (state, id) => {
              if (state !== last) process.stderr.write(`athena ${id}: ${state}\n`);
              last = state;
            },
          },
        });
      } finally {
        process.removeListener('SIGINT', onSigint);
        client.destroy();
      }
    } else {
      result = await runQuery({ query: name, params, config, dataDir: opts.dataDir });
    }
    if (format === 'json') {
      printJson({
        query: result.query.name,
        engine: result.engine,
        ...(result.engine === 'athena' ? { queryExecutionId: result.queryExecutionId } : {}),
        columns: result.columns,
        rows: result.rows,
        stats: result.stats,
      });
    } else if (format === 'csv') {
      process.stdout.write(`${toCsv(result.columns, result.rows)}\n`);
      process.stderr.write(`${scanSummary(result)}\n`);
    } else {
      process.stdout.write(`${formatTable(result.rows, result.columns)}\n`);
      process.stderr.write(`${scanSummary(result)}\n`);
    }
  });
}
