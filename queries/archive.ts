/**
 * Which engine reads the archive: DuckDB over the local archive folder, or Athena over the deployed Glue
 * tables. Reconcile, backfill and the quarantine listing run the same SQL (written in the dialect both
 * share: Trino functions, shimmed in DuckDB by `engine/compat.ts`) on either, through this one interface.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { ResolvedConfig } from '../common/config.ts';
import { runAthenaQuery } from './athena/client.ts';
import { DuckDbEngine, type Row } from './engine/duckdb.ts';

export interface ArchiveResult {
  readonly columns: string[];
  readonly rows: Row[];
  /** Bytes the query read (DuckDB's count, or Athena's `DataScannedInBytes`). */
  readonly bytesScanned: number;
}

/** An open archive engine; always {@link ArchiveEngine.close} it. */
export interface ArchiveEngine {
  readonly name: 'duckdb' | 'athena';
  run(sql: string): Promise<ArchiveResult>;
  close(): Promise<void>;
}

/** DuckDB over `<dataDir>/s3/<archive bucket>/`. */
export async function openDuckDbArchive(dataDir: string, config: ResolvedConfig): Promise<ArchiveEngine> {
  const engine = await DuckDbEngine.open({ dataDir, config });
  return {
    name: 'duckdb',
    run: async (sql) => {
      const r = await engine.run(sql);
      return { columns: r.columns, rows: r.rows, bytesScanned: r.stats.bytesScanned };
    },
    close: async () => engine.close(),
  };
}

export interface AthenaArchiveOptions {
  readonly client: AthenaClient;
  /** Workgroup and database from `config.athena` (for a stack, `configForStack` put its names there). */
  readonly config: ResolvedConfig;
  /** Longest a query may take before it is stopped, 1,000–3,600,000 ms. @default 600_000 */
  readonly timeoutMs?: number;
  /** Called with each query's state (progress). */
  readonly onState?: (state: string, queryExecutionId: string) => void;
}

/** Athena: each `run` is one query execution in the config's workgroup and database. */
export function athenaArchive(options: AthenaArchiveOptions): ArchiveEngine {
  return {
    name: 'athena',
    run: async (sql) => {
      const r = await runAthenaQuery(sql, {
        client: options.client,
        workgroup: options.config.athena.workgroup,
        database: options.config.athena.database,
        timeoutMs: options.timeoutMs ?? 600_000,
        pollInitialMs: 50,
        pollMaxMs: 2_000,
        ...(options.onState ? { onState: options.onState } : {}),
      });
      return { columns: r.columns, rows: r.rows, bytesScanned: r.stats.bytesScanned };
    },
    close: async () => undefined,
  };
}
