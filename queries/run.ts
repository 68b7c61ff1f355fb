/**
 * Runs a catalog query (by name or `.sql` file) on the local engine (DuckDB over the archive folder) or on
 * Athena (the deployed Glue tables). Both report the bytes scanned and what the scan costs at Athena's price.
 */
import { existsSync } from 'node:fs';
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { ResolvedConfig } from '../common/config.ts';
import { describeValue } from '../common/errors.ts';
import { type AthenaQueryStats, runAthenaQuery } from './athena/client.ts';
import { athenaQueryCost, type QueryCost } from './athena/pricing.ts';
import { type CatalogQuery, loadCatalog, loadCatalogFile, renderQuery } from './catalog.ts';
import { DuckDbEngine, type QueryStats, type Row } from './engine/duckdb.ts';
import { QueryDefinitionError } from './errors.ts';

export interface RunQueryOptions {
  /** A catalog query name (see `loadCatalog`) or a path to a `.sql` file with the same header format. */
  readonly query: string;
  /** Parameter values as typed (`{ from: '-1h' }`). @default {} */
  readonly params?: Readonly<Record<string, string>>;
  readonly config: ResolvedConfig;
  /** Local cloud state folder holding the archive (engine `duckdb`). */
  readonly dataDir: string;
  /** `duckdb` (local archive) or `athena` (needs `athena`). @default 'duckdb' */
  readonly engine?: 'duckdb' | 'athena';
  /**
   * For engine `athena`: the client; workgroup and database come from `config.athena` (for a deployed stack
   * use `configForStack`). `signal` stops the query (Ctrl-C).
   */
  readonly athena?: {
    readonly client: AthenaClient;
    readonly signal?: AbortSignal;
    readonly onState?: (state: string, queryExecutionId: string) => void;
  };
  /** Clock for relative times, epoch ms. @default Date.now() */
  readonly now?: number;
  /** Catalog folder. @default the built-in catalog */
  readonly catalogDir?: string;
}

interface RunQueryResultBase {
  readonly query: CatalogQuery;
  /** The SQL that ran, parameters substituted. */
  readonly sql: string;
  readonly columns: string[];
  readonly rows: Row[];
}

/** A local run: DuckDB's scan statistics, and what the same scan would cost on Athena. */
export interface LocalRunQueryResult extends RunQueryResultBase {
  readonly engine: 'duckdb';
  readonly stats: QueryStats & { readonly cost: QueryCost };
}

/** An Athena run: Athena's statistics (bytes scanned, cost billed) and the query execution id. */
export interface AthenaRunQueryResult extends RunQueryResultBase {
  readonly engine: 'athena';
  readonly queryExecutionId: string;
  readonly stats: AthenaQueryStats;
}

export type RunQueryResult = LocalRunQueryResult | AthenaRunQueryResult;

/** Finds a catalog query by name, or loads a `.sql` file. */
export function resolveQuery(nameOrFile: string, catalogDir?: string): CatalogQuery {
  if (nameOrFile.endsWith('.sql') || nameOrFile.includes('/')) {
    if (!existsSync(nameOrFile)) throw new QueryDefinitionError(`no such query file: ${nameOrFile}`);
    return loadCatalogFile(nameOrFile);
  }
  const catalog = loadCatalog(catalogDir);
  const q = catalog.find((c) => c.name === nameOrFile);
  if (!q) {
    throw new QueryDefinitionError(
      `query must be one of ${catalog.map((c) => c.name).join(', ')} or a .sql file; received ${describeValue(nameOrFile)}`,
    );
  }
  return q;
}

/**
 * Renders and runs one query on a fresh local engine.
 *
 * @example
 * ```ts
 * const { rows, stats } = await runQuery({ query: 'events_per_minute', params: { from: '-1h' }, config, dataDir: '.shardline' });
 * ```
 */
export function runQuery(options: RunQueryOptions & { engine?: 'duckdb' }): Promise<LocalRunQueryResult>;
export function runQuery(options: RunQueryOptions & { engine: 'athena' }): Promise<AthenaRunQueryResult>;
export function runQuery(options: RunQueryOptions): Promise<RunQueryResult>;
export async function runQuery(options: RunQueryOptions): Promise<RunQueryResult> {
  const engineName = options.engine ?? 'duckdb';
  if (engineName !== 'duckdb' && engineName !== 'athena') {
    throw new QueryDefinitionError(`engine must be duckdb or athena; received ${describeValue(engineName)}`);
  }
  const query = resolveQuery(options.query, options.catalogDir);
  const sql = renderQuery(query, options.params ?? {}, options.now ?? Date.now());
  if (engineName === 'athena') {
    if (!options.athena)
      throw new QueryDefinitionError('engine athena needs an Athena client (options.athena)');
    const r = await runAthenaQuery(sql, {
      client: options.athena.client,
      workgroup: options.config.athena.workgroup,
      database: options.config.athena.database,
      signal: options.athena.signal,
      onState: options.athena.onState,
    });
    return {
      engine: 'athena',
      query,
      sql,
      columns: r.columns,
      rows: r.rows,
      queryExecutionId: r.queryExecutionId,
      stats: r.stats,
    };
  }
  const engine = await DuckDbEngine.open({ dataDir: options.dataDir, config: options.config });
  try {
    const r = await engine.run(sql);
    return {
      engine: 'duckdb',
      query,
      sql,
      columns: r.columns,
      rows: r.rows,
      stats: { ...r.stats, cost: athenaQueryCost(r.stats.bytesScanned) },
    };
  } finally {
    engine.close();
  }
}
