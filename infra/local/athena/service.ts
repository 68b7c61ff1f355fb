/**
 * The local Athena's state: query executions run by DuckDB over the local archive (the Glue tables'
 * names, the catalog's Trino shims: `queries/engine/`), one workgroup (the config's, besides `primary`),
 * and the catalog's named queries (as the stack creates them: `AWS::Athena::NamedQuery` per catalog file).
 *
 * An execution goes QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED. At most `concurrency` run at once;
 * the rest wait QUEUED. StopQueryExecution interrupts a running statement. A FAILED one carries the SQL
 * error in `StateChangeReason` (prefixed with Trino's error name where DuckDB's kind maps to one, e.g.
 * `TABLE_NOT_FOUND`), a query over the workgroup's `BytesScannedCutoffPerQuery` ends CANCELLED, and the
 * result is also written as CSV to the output location under `<dataDir>/s3/`, as Athena writes it to S3.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ResolvedConfig } from '../../../common/config.ts';
import { DuckDbEngine } from '../../../queries/engine/duckdb.ts';
import { type CatalogQuery, readCatalog } from '../../aws/lib/catalog.ts';
import { type AthenaColumnInfo, cellText, columnInfo } from './render.ts';

export type ExecutionState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export type StatementType = 'DML' | 'DDL' | 'UTILITY';

/** A finished query's result: column metadata and the rendered cells (undefined: NULL). */
export interface ExecutionResult {
  readonly columns: readonly AthenaColumnInfo[];
  readonly rows: readonly (readonly (string | undefined)[])[];
}

export interface Execution {
  readonly id: string;
  readonly sql: string;
  readonly database: string;
  readonly catalog: string;
  readonly workgroup: string;
  readonly outputLocation: string;
  readonly statementType: StatementType;
  readonly submittedAt: number;
  state: ExecutionState;
  reason?: string;
  startedAt?: number;
  completedAt?: number;
  bytesScanned: number;
  result?: ExecutionResult;
}

export interface WorkGroup {
  readonly name: string;
  /** `s3://<results bucket>/results/`. */
  readonly outputLocation: string;
  readonly bytesScannedCutoffPerQuery: number | null;
}

export interface NamedQuery {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly database: string;
  readonly workgroup: string;
  readonly sql: string;
}

export interface LocalAthenaOptions {
  readonly config: ResolvedConfig;
  /** Local cloud state folder: the archive is `<dataDir>/s3/<archive bucket>/`, results go under `s3/` too. */
  readonly dataDir: string;
  /** Bucket of query results (the stack's `AthenaResultsBucketName`). */
  readonly resultsBucket: string;
  /** Catalog folder of the named queries. @default none */
  readonly catalogDir?: string;
  /** Queries running at once, 1–16 (others wait QUEUED). @default 1 */
  readonly concurrency?: number;
}

/** The error a request is rejected with (InvalidRequestException and its `AthenaErrorCode`). */
export class AthenaRequestError extends Error {
  readonly type: string;
  readonly athenaErrorCode: string | undefined;
  constructor(type: string, message: string, athenaErrorCode?: string) {
    super(message);
    this.type = type;
    this.athenaErrorCode = athenaErrorCode;
  }
}

/** Statement type of a SQL text (leading comments skipped), as Athena reports it. Pure. */
export function statementTypeOf(sql: string): StatementType {
  const word = /^[(\s]*([A-Za-z]+)/.exec(stripComments(sql))?.[1]?.toUpperCase() ?? '';
  if (['SELECT', 'WITH', 'VALUES', 'TABLE', 'INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(word))
    return 'DML';
  if (['EXPLAIN', 'DESCRIBE', 'SHOW'].includes(word)) return 'UTILITY';
  return 'DDL';
}

/** Athena's `ERROR_NAME: message` for a DuckDB error message. Pure. */
export function athenaReason(duckdbMessage: string): string {
  const msg = duckdbMessage.replace(/^query failed: /, '');
  if (/^Parser Error/.test(msg)) return `SYNTAX_ERROR: ${msg}`;
  if (/^Catalog Error: Table/.test(msg)) return `TABLE_NOT_FOUND: ${msg}`;
  if (/^Catalog Error: Schema/.test(msg)) return `SCHEMA_NOT_FOUND: ${msg}`;
  if (/^Catalog Error: (Scalar |Aggregate |Table )?Function/.test(msg)) return `FUNCTION_NOT_FOUND: ${msg}`;
  if (/^Binder Error: Referenced column/.test(msg)) return `COLUMN_NOT_FOUND: ${msg}`;
  if (/^Conversion Error|^Invalid Input Error/.test(msg)) return `INVALID_CAST_ARGUMENT: ${msg}`;
  if (/^Out of Range Error/.test(msg)) return `NUMERIC_VALUE_OUT_OF_RANGE: ${msg}`;
  return `GENERIC_USER_ERROR: ${msg}`;
}

/** A stable id for a named query (a UUID-shaped hash of its name). */
function namedQueryId(name: string): string {
  const h = createHash('sha256').update(`shardline-named-query:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function csvCell(v: string | undefined): string {
  return v === undefined ? '' : `"${v.replaceAll('"', '""')}"`;
}

export class LocalAthena {
  readonly config: ResolvedConfig;
  readonly dataDir: string;
  readonly workgroups: ReadonlyMap<string, WorkGroup>;
  readonly namedQueries: readonly NamedQuery[];
  readonly #executions = new Map<string, Execution>();
  readonly #tokens = new Map<string, string>();
  readonly #queue: Execution[] = [];
  readonly #running = new Set<Promise<void>>();
  /** The engine of each running execution, to interrupt on StopQueryExecution. */
  readonly #engines = new Map<string, DuckDbEngine>();
  readonly #concurrency: number;
  #active = 0;

  constructor(options: LocalAthenaOptions) {
    this.config = options.config;
    this.dataDir = options.dataDir;
    this.#concurrency = options.concurrency ?? 1;
    const output = `s3://${options.resultsBucket}/results/`;
    this.workgroups = new Map([
      ['primary', { name: 'primary', outputLocation: output, bytesScannedCutoffPerQuery: null }],
      [
        options.config.athena.workgroup,
        {
          name: options.config.athena.workgroup,
          outputLocation: output,
          bytesScannedCutoffPerQuery: options.config.athena.bytesScannedCutoffPerQuery,
        },
      ],
    ]);
    const catalog: CatalogQuery[] = options.catalogDir ? readCatalog(options.catalogDir) : [];
    this.namedQueries = catalog.map((q) => ({
      id: namedQueryId(q.name),
      name: q.name,
      description: q.description,
      database: options.config.athena.database,
      workgroup: options.config.athena.workgroup,
      sql: q.sql,
    }));
  }

  workgroup(name: string): WorkGroup {
    const wg = this.workgroups.get(name);
    if (!wg) throw new AthenaRequestError('InvalidRequestException', `WorkGroup ${name} is not found.`);
    return wg;
  }

  /** Starts a query; a repeated `clientRequestToken` returns the first execution's id (idempotent start). */
  start(args: {
    sql: string;
    database: string;
    catalog: string;
    workgroup: string;
    outputLocation?: string;
    clientRequestToken?: string;
  }): string {
    const wg = this.workgroup(args.workgroup);
    if (args.clientRequestToken !== undefined) {
      const seen = this.#tokens.get(args.clientRequestToken);
      if (seen !== undefined) return seen;
    }
    const id = randomUUID();
    const exec: Execution = {
      id,
      sql: args.sql,
      database: args.database,
      catalog: args.catalog,
      workgroup: wg.name,
      // The workgroup's settings are enforced (the stack sets EnforceWorkGroupConfiguration).
      outputLocation: `${wg.name === 'primary' && args.outputLocation ? args.outputLocation.replace(/\/?$/, '/') : wg.outputLocation}${id}.csv`,
      statementType: statementTypeOf(args.sql),
      submittedAt: Date.now(),
      state: 'QUEUED',
      bytesScanned: 0,
    };
    this.#executions.set(id, exec);
    if (args.clientRequestToken !== undefined) this.#tokens.set(args.clientRequestToken, id);
    this.#queue.push(exec);
    this.#pump();
    return id;
  }

  get(id: string): Execution {
    const exec = this.#executions.get(id);
    if (!exec) {
      throw new AthenaRequestError(
        'InvalidRequestException',
        `QueryExecution ${id} was not found`,
        'INVALID_INPUT',
      );
    }
    return exec;
  }

  /** StopQueryExecution: a queued or running query ends CANCELLED; a finished one is left as it is. */
  stop(id: string): void {
    const exec = this.get(id);
    if (exec.state === 'QUEUED' || exec.state === 'RUNNING') {
      exec.state = 'CANCELLED';
      exec.reason = 'Query cancelled by user';
      exec.completedAt = Date.now();
      const i = this.#queue.indexOf(exec);
      if (i >= 0) this.#queue.splice(i, 1);
      this.#engines.get(id)?.interrupt();
    }
  }

  /** Waits for every running query to finish (for a clean shutdown). */
  async idle(): Promise<void> {
    this.#queue.length = 0;
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  #pump(): void {
    while (this.#active < this.#concurrency && this.#queue.length > 0) {
      const exec = this.#queue.shift()!;
      this.#active++;
      const run = this.#run(exec).finally(() => {
        this.#active--;
        this.#running.delete(run);
        this.#pump();
      });
      this.#running.add(run);
    }
  }

  async #run(exec: Execution): Promise<void> {
    // Let the caller see QUEUED before RUNNING, as Athena's first poll usually does.
    await new Promise((r) => setTimeout(r, 5));
    if (exec.state !== 'QUEUED') return;
    exec.state = 'RUNNING';
    exec.startedAt = Date.now();
    const fail = (reason: string) => {
      if (exec.state !== 'RUNNING') return;
      exec.state = 'FAILED';
      exec.reason = reason;
      exec.completedAt = Date.now();
    };
    if (exec.catalog.toLowerCase() !== 'awsdatacatalog') {
      return fail(`CATALOG_NOT_FOUND: Catalog '${exec.catalog}' does not exist`);
    }
    if (exec.database !== this.config.athena.database) {
      return fail(`SCHEMA_NOT_FOUND: Schema '${exec.database}' does not exist`);
    }
    if (exec.statementType !== 'DML' && !/^\s*EXPLAIN\b/i.test(stripComments(exec.sql))) {
      return fail(
        `NOT_SUPPORTED: the local Athena runs queries (SELECT, WITH, VALUES, EXPLAIN) over the archive; the Glue tables are defined by the stack. Received a ${exec.statementType} statement.`,
      );
    }
    let engine: DuckDbEngine | undefined;
    try {
      engine = await DuckDbEngine.open({ dataDir: this.dataDir, config: this.config });
      this.#engines.set(exec.id, engine);
      // Qualified names (`shardline.events`) resolve too.
      const db = this.config.athena.database;
      await engine.run(`CREATE SCHEMA IF NOT EXISTS ${db}`);
      for (const t of [this.config.archive.tableName, this.config.quarantine.tableName]) {
        await engine.run(`CREATE OR REPLACE VIEW ${db}.${t} AS SELECT * FROM main.${t}`);
      }
      const r = await engine.run(exec.sql);
      if (exec.state !== 'RUNNING') return;
      exec.bytesScanned = r.stats.bytesScanned;
      const cutoff = this.workgroup(exec.workgroup).bytesScannedCutoffPerQuery;
      if (cutoff !== null && r.stats.bytesScanned > cutoff) {
        exec.state = 'CANCELLED';
        exec.reason = `Query cancelled! : Bytes scanned limit was exceeded`;
        exec.completedAt = Date.now();
        return;
      }
      const columns = r.columns.map((c, i) => columnInfo(c, r.columnTypes[i] ?? 'VARCHAR'));
      const rows = r.rows.map((row) => columns.map((c) => cellText(c.Type, row[c.Name] ?? null)));
      exec.result = { columns, rows };
      this.#writeCsv(exec);
      exec.state = 'SUCCEEDED';
      exec.completedAt = Date.now();
    } catch (err) {
      fail(athenaReason((err as Error).message));
    } finally {
      this.#engines.delete(exec.id);
      engine?.close();
    }
  }

  #writeCsv(exec: Execution): void {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(exec.outputLocation);
    if (!m || !exec.result) return;
    const file = join(this.dataDir, 's3', m[1]!, m[2]!);
    mkdirSync(dirname(file), { recursive: true });
    const lines = [
      exec.result.columns.map((c) => csvCell(c.Name)).join(','),
      ...exec.result.rows.map((r) => r.map(csvCell).join(',')),
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
  }
}

function stripComments(sql: string): string {
  return sql.replace(/^(\s*(--[^\n]*\n|\/\*[\s\S]*?\*\/))*\s*/, '');
}
