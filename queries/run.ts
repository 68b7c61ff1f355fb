/**
 * Runs a catalog query (by name or `.sql` file) on the local engine.
 */
import { existsSync } from 'node:fs';
import type { ResolvedConfig } from '../common/config.ts';
import { describeValue } from '../common/errors.ts';
import { type CatalogQuery, loadCatalog, loadCatalogFile, renderQuery } from './catalog.ts';
import { DuckDbEngine, type QueryResult } from './engine/duckdb.ts';
import { QueryDefinitionError } from './errors.ts';

export interface RunQueryOptions {
  /** A catalog query name (see `loadCatalog`) or a path to a `.sql` file with the same header format. */
  readonly query: string;
  /** Parameter values as typed (`{ from: '-1h' }`). @default {} */
  readonly params?: Readonly<Record<string, string>>;
  readonly config: ResolvedConfig;
  /** Local cloud state folder holding the archive. */
  readonly dataDir: string;
  /** Engine: only `duckdb` (local) for now. @default 'duckdb' */
  readonly engine?: 'duckdb';
  /** Clock for relative times, epoch ms. @default Date.now() */
  readonly now?: number;
  /** Catalog folder. @default the built-in catalog */
  readonly catalogDir?: string;
}

export interface RunQueryResult extends QueryResult {
  readonly query: CatalogQuery;
  /** The SQL that ran, parameters substituted. */
  readonly sql: string;
}

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
export async function runQuery(options: RunQueryOptions): Promise<RunQueryResult> {
  const engineName = options.engine ?? 'duckdb';
  if (engineName !== 'duckdb') {
    throw new QueryDefinitionError(`engine must be duckdb; received ${describeValue(engineName)}`);
  }
  const query = resolveQuery(options.query, options.catalogDir);
  const sql = renderQuery(query, options.params ?? {}, options.now ?? Date.now());
  const engine = await DuckDbEngine.open({ dataDir: options.dataDir, config: options.config });
  try {
    return { ...(await engine.run(sql)), query, sql };
  } finally {
    engine.close();
  }
}
