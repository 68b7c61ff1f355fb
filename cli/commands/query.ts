/**
 * `shardline query <name|file.sql>`: runs a catalog query on the local engine (DuckDB over the archive).
 * `shardline query --list`: lists the catalog.
 */
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import { loadCatalog, parseParamAssignments } from '../../queries/catalog.ts';
import type { Row } from '../../queries/engine/duckdb.ts';
import { runQuery } from '../../queries/run.ts';
import { formatTable, loadConfig, printJson, withCommonOptions } from '../shared.ts';

const FORMATS = ['table', 'json', 'csv'] as const;

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

export function register(program: Command): void {
  withCommonOptions(
    program
      .command('query')
      .description('run a catalog query (Athena SQL) on the local archive with DuckDB')
      .argument('[query]', 'catalog query name or path to a .sql file')
      .option(
        '--param <k=v>',
        'query parameter (repeatable)',
        (v: string, acc: string[]) => [...acc, v],
        [] as string[],
      )
      .option('--engine <engine>', 'query engine: duckdb (local)', 'duckdb')
      .option('--format <format>', 'output: table, json or csv', 'table')
      .option('--list', 'list the catalog queries and their params')
      .option('--json', 'same as --format json'),
  ).action(
    async (
      name: string | undefined,
      opts: {
        param: string[];
        engine: string;
        format: string;
        list?: boolean;
        json?: boolean;
        config?: string;
        dataDir: string;
      },
    ) => {
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
      if (opts.engine !== 'duckdb')
        throw new UsageError(`--engine must be duckdb; received "${opts.engine}"`);
      const format = opts.json ? 'json' : opts.format;
      if (!(FORMATS as readonly string[]).includes(format)) {
        throw new UsageError(`--format must be one of ${FORMATS.join(', ')}; received "${format}"`);
      }
      const config = await loadConfig(opts.config);
      const result = await runQuery({
        query: name,
        params: parseParamAssignments(opts.param),
        config,
        dataDir: opts.dataDir,
      });
      if (format === 'json') {
        printJson({
          query: result.query.name,
          columns: result.columns,
          rows: result.rows,
          stats: result.stats,
        });
      } else if (format === 'csv') {
        process.stdout.write(`${toCsv(result.columns, result.rows)}\n`);
      } else {
        process.stdout.write(`${formatTable(result.rows, result.columns)}\n`);
        const s = result.stats;
        process.stderr.write(
          `${result.rows.length} rows; scanned ${s.bytesScanned} bytes in ${s.filesScanned} files; ${Math.round(s.elapsedMs)} ms\n`,
        );
      }
    },
  );
}
