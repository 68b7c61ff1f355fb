/**
 * DuckDB as the local Athena: an in-memory database whose views are named like the Glue tables and read
 * the local archive folder (`<dataDir>/s3/<bucket>/`) with hive partitioning on `dt` (`YYYY-MM-DD-HH`).
 *
 * Every query is profiled: {@link QueryStats.bytesScanned} is DuckDB's count of bytes read from files (caches
 * are off, so it is what this query read, like Athena's `DataScannedInBytes`), and
 * {@link QueryStats.filesScanned} counts the archive objects opened, so partition pruning shows.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { ResolvedConfig } from '../../common/config.ts';
import { ARCHIVE_COLUMNS } from '../../common/envelope.ts';
import { QUARANTINE_COLUMNS } from '../../common/quarantine.ts';
import { sqlString } from '../catalog.ts';
import { QueryExecutionError } from '../errors.ts';
import { TRINO_COMPAT_MACROS } from './compat.ts';

/** A JSON-friendly cell value. */
export type CellValue = string | number | boolean | null | CellValue[] | { [key: string]: CellValue };
export type Row = Record<string, CellValue>;

export interface QueryStats {
  /** Bytes DuckDB read from archive files for this query (after partition pruning and column projection). */
  readonly bytesScanned: number;
  /** Archive objects opened (summed over every scan in the plan). */
  readonly filesScanned: number;
  readonly elapsedMs: number;
}

export interface QueryResult {
  readonly columns: string[];
  /** DuckDB's type of each column, as DuckDB spells it (`BIGINT`, `MAP(VARCHAR, DOUBLE)`, ...). */
  readonly columnTypes: string[];
  readonly rows: Row[];
  readonly stats: QueryStats;
}

export interface LocalEngineOptions {
  /** Local cloud state folder; the archive bucket is `<dataDir>/s3/<config.archive.bucket>/`. */
  readonly dataDir: string;
  readonly config: ResolvedConfig;
  /** DuckDB worker threads, 1–64. @default 2 */
  readonly threads?: number;
}

/** JSON keys of the envelope, by archive column name (`eventid` → `eventId`). */
const ENVELOPE_JSON_KEYS: Record<string, string> = { eventid: 'eventId' };

/** Files under `<root>/dt=*\/` accepted by `accept`, by partition. */
function listPartitionFiles(root: string, accept: (name: string) => boolean): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const part of readdirSync(root, { withFileTypes: true })) {
    if (!part.isDirectory() || !part.name.startsWith('dt=')) continue;
    for (const f of readdirSync(join(root, part.name), { withFileTypes: true })) {
      if (f.isFile() && accept(f.name)) out.push(join(root, part.name, f.name));
    }
  }
  return out;
}

function emptyView(name: string, cols: readonly { name: string; duckdbType: string }[]): string {
  const select = [
    ...cols.map((c) => `CAST(NULL AS ${c.duckdbType}) AS ${c.name}`),
    'CAST(NULL AS VARCHAR) AS dt',
  ];
  return `CREATE OR REPLACE VIEW ${name} AS SELECT ${select.join(', ')} WHERE false`;
}

/** The SQL that creates the archive view (exported for tests and for documentation). */
export function archiveViewSql(config: ResolvedConfig, bucketDir: string): string {
  const name = config.archive.tableName;
  const root = join(bucketDir, 'raw');
  const hive = `hive_partitioning = true, hive_types = {'dt': 'VARCHAR'}`;
  if (config.archive.format === 'parquet') {
    if (listPartitionFiles(root, (f) => f.endsWith('.parquet')).length === 0)
      return emptyView(name, ARCHIVE_COLUMNS);
    const cols = ARCHIVE_COLUMNS.map((c) => `CAST(${c.name} AS ${c.duckdbType}) AS ${c.name}`);
    const glob = sqlString(join(root, 'dt=*', '*.parquet'));
    return `CREATE OR REPLACE VIEW ${name} AS SELECT ${cols.join(', ')}, dt FROM read_parquet(${glob}, ${hive}, union_by_name = true)`;
  }
  const gz = config.archive.format === 'json.gz';
  if (listPartitionFiles(root, (f) => f.endsWith('.gz') === gz).length === 0)
    return emptyView(name, ARCHIVE_COLUMNS);
  const key = (c: string) => ENVELOPE_JSON_KEYS[c] ?? c;
  const columns = ARCHIVE_COLUMNS.map(
    (c) => `${key(c.name)}: ${sqlString(c.name === 'ts' ? 'VARCHAR' : c.duckdbType)}`,
  ).join(', ');
  const cols = ARCHIVE_COLUMNS.map((c) =>
    c.name === 'ts' ? 'CAST(CAST(ts AS TIMESTAMPTZ) AS TIMESTAMP) AS ts' : `${key(c.name)} AS ${c.name}`,
  );
  const glob = sqlString(join(root, 'dt=*', gz ? '*.gz' : '*'));
  return `CREATE OR REPLACE VIEW ${name} AS SELECT ${cols.join(', ')}, dt FROM read_json(${glob}, format = 'unstructured', ${hive}, columns = {${columns}})`;
}

/** The SQL that creates the quarantine view (newline-delimited `QuarantineRecord` objects). */
export function quarantineViewSql(config: ResolvedConfig, bucketDir: string): string {
  const name = config.quarantine.tableName;
  const root = join(bucketDir, 'quarantine');
  if (listPartitionFiles(root, () => true).length === 0) return emptyView(name, QUARANTINE_COLUMNS);
  const columns = QUARANTINE_COLUMNS.map((c) => `${c.json}: ${sqlString(c.duckdbType)}`).join(', ');
  const cols = QUARANTINE_COLUMNS.map((c) => `${c.json} AS ${c.name}`);
  const glob = sqlString(join(root, 'dt=*', '*'));
  return `CREATE OR REPLACE VIEW ${name} AS SELECT ${cols.join(', ')}, dt FROM read_json(${glob}, format = 'newline_delimited', hive_partitioning = true, hive_types = {'dt': 'VARCHAR'}, columns = {${columns}})`;
}

interface ProfileNode {
  operator_name?: string;
  extra_info?: Record<string, unknown>;
  children?: ProfileNode[];
  total_bytes_read?: number;
}

function filesRead(node: ProfileNode): number {
  const own = Number(node.extra_info?.['Total Files Read'] ?? 0);
  return (Number.isFinite(own) ? own : 0) + (node.children ?? []).reduce((n, c) => n + filesRead(c), 0);
}

/** Converts DuckDB's JS values to JSON-friendly ones (BIGINT → number, TIMESTAMP → ISO, MAP → object). */
export function toCell(value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) {
    const isMap = value.every(
      (e) => typeof e === 'object' && e !== null && Object.keys(e).length === 2 && 'key' in e && 'value' in e,
    );
    if (isMap && value.length > 0) {
      const out: Record<string, CellValue> = {};
      for (const e of value as { key: unknown; value: unknown }[]) out[String(e.key)] = toCell(e.value);
      return out;
    }
    return value.map(toCell);
  }
  if (typeof value === 'object') {
    const out: Record<string, CellValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toCell(v);
    return out;
  }
  return String(value);
}

/**
 * An open local engine. Create with {@link DuckDbEngine.open}; always {@link DuckDbEngine.close} it.
 *
 * @example
 * ```ts
 * const engine = await DuckDbEngine.open({ dataDir: '.shardline', config });
 * try {
 *   const { rows, stats } = await engine.run('SELECT count(*) AS n FROM events');
 * } finally {
 *   engine.close();
 * }
 * ```
 */
export class DuckDbEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly profileDir: string,
  ) {}

  /** Opens an in-memory DuckDB with the archive and quarantine views and the Trino macros. */
  static async open(options: LocalEngineOptions): Promise<DuckDbEngine> {
    const threads = options.threads ?? 2;
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new QueryExecutionError(`threads must be an integer between 1 and 64; received ${threads}`);
    }
    const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
    const connection = await instance.connect();
    const profileDir = mkdtempSync(join(tmpdir(), 'shardline-duckdb-'));
    const engine = new DuckDbEngine(instance, connection, profileDir);
    const bucketDir = join(options.dataDir, 's3', options.config.archive.bucket);
    try {
      for (const sql of [
        "SET TimeZone = 'UTC'",
        'SET enable_external_file_cache = false',
        'SET parquet_metadata_cache = false',
        ...TRINO_COMPAT_MACROS,
        archiveViewSql(options.config, bucketDir),
        quarantineViewSql(options.config, bucketDir),
        "PRAGMA enable_profiling = 'json'",
        `SET profiling_output = ${sqlString(join(profileDir, 'profile.json'))}`,
      ]) {
        await connection.run(sql);
      }
    } catch (err) {
      engine.close();
      throw new QueryExecutionError(
        `could not open the local engine over ${bucketDir}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return engine;
  }

  /** Runs one SQL statement and returns its rows with scan statistics. */
  async run(sql: string): Promise<QueryResult> {
    const profile = join(this.profileDir, 'profile.json');
    rmSync(profile, { force: true });
    const started = performance.now();
    try {
      const reader = await this.connection.runAndReadAll(sql);
      const columns = reader.columnNames();
      const columnTypes = reader.columnTypes().map((t) => t.toString());
      const rows = reader.getRowObjectsJS().map((r) => {
        const row: Row = {};
        for (const c of columns) row[c] = toCell(r[c]);
        return row;
      });
      const elapsedMs = performance.now() - started;
      let bytesScanned = 0;
      let filesScanned = 0;
      if (existsSync(profile)) {
        const tree = JSON.parse(readFileSync(profile, 'utf8')) as ProfileNode;
        bytesScanned = Number(tree.total_bytes_read ?? 0);
        filesScanned = filesRead(tree);
      }
      return { columns, columnTypes, rows, stats: { bytesScanned, filesScanned, elapsedMs } };
    } catch (err) {
      throw new QueryExecutionError(`query failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Interrupts the statement running on this engine (it then fails with an interrupt error). */
  interrupt(): void {
    this.connection.interrupt();
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}
