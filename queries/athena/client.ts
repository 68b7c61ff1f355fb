/**
 * An Athena query client over the AWS SDK: StartQueryExecution in a workgroup and database, polling
 * GetQueryExecution with exponential backoff until a final state, GetQueryResults pagination into typed rows,
 * StopQueryExecution when the caller aborts (Ctrl-C), and the query's scanned bytes and cost.
 *
 * States: QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED; RUNNING may fall back to QUEUED (Athena
 * re-queues on transient capacity), so only a final state ends the polling. Throttled or failed requests are
 * retried by the SDK's standard retry strategy (StartQueryExecution carries an auto-generated
 * `ClientRequestToken`, so a retried start does not start a second query).
 */
import {
  AthenaClient,
  type AthenaClientConfig,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  type QueryExecutionState,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { type ClientOptions, clientConfig } from '../../common/aws.ts';
import { describeValue, UsageError } from '../../common/errors.ts';
import type { Row } from '../engine/duckdb.ts';
import { QueryExecutionError } from '../errors.ts';
import { AthenaQueryCancelledError, AthenaQueryFailedError, AthenaQueryTimeoutError } from './errors.ts';
import { athenaQueryCost, type QueryCost } from './pricing.ts';
import { type AthenaColumn, columnsOf, typedRows } from './values.ts';

export interface AthenaClientOptions extends ClientOptions {
  /** A smithy request handler to use instead of the HTTP/1.1 one (tests pass recorded responses). */
  readonly requestHandler?: AthenaClientConfig['requestHandler'];
}

/**
 * An Athena client built like `common/aws.ts` builds the others. Region and credentials come from the
 * standard AWS environment; the endpoint from `AWS_ENDPOINT_URL_ATHENA` unless `endpoint` is given.
 */
export function athenaClient(options: AthenaClientOptions = {}): AthenaClient {
  const config = clientConfig(options);
  return new AthenaClient(
    options.requestHandler ? { ...config, requestHandler: options.requestHandler } : config,
  );
}

export interface AthenaQueryOptions {
  readonly client: AthenaClient;
  /** Athena workgroup (its enforced settings give the results location and the scan cutoff). */
  readonly workgroup: string;
  /** Glue database the query's unqualified table names resolve in. */
  readonly database: string;
  /** Data catalog. @default 'AwsDataCatalog' */
  readonly catalog?: string;
  /** Aborting stops the query (StopQueryExecution) and rejects with {@link AthenaQueryCancelledError}. */
  readonly signal?: AbortSignal;
  /** First delay between GetQueryExecution polls, 1–60,000 ms. @default 200 */
  readonly pollInitialMs?: number;
  /** Largest delay between polls, pollInitialMs–60,000 ms. @default 5000 */
  readonly pollMaxMs?: number;
  /** Factor applied to the delay after each poll, 1–10. @default 2 */
  readonly pollMultiplier?: number;
  /**
   * Longest the query may take to reach a final state, 1–86,400,000 ms; past it the query is stopped and
   * {@link AthenaQueryTimeoutError} names its execution id. @default no limit
   */
  readonly timeoutMs?: number;
  /** Rows per GetQueryResults page, 1–1,000 (Athena's maximum). @default 1000 */
  readonly pageSize?: number;
  /** Called with each polled state (progress display). */
  readonly onState?: (state: QueryExecutionState, queryExecutionId: string) => void;
  /** Waits `ms`, resolving early when `signal` aborts. Injected by tests. @default a timer */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface AthenaQueryStats {
  /** `Statistics.DataScannedInBytes`. */
  readonly bytesScanned: number;
  /** Not reported by Athena. */
  readonly filesScanned: null;
  /** Wall time from start request to last result page, ms. */
  readonly elapsedMs: number;
  /** `Statistics.EngineExecutionTimeInMillis`. */
  readonly engineExecutionTimeMs: number | null;
  /** `Statistics.QueryQueueTimeInMillis`. */
  readonly queueTimeMs: number | null;
  /** GetQueryExecution calls made. */
  readonly polls: number;
  readonly cost: QueryCost;
}

export interface AthenaQueryResult {
  readonly queryExecutionId: string;
  readonly columns: string[];
  readonly columnTypes: AthenaColumn[];
  readonly rows: Row[];
  readonly stats: AthenaQueryStats;
}

interface ResolvedPolling {
  initial: number;
  max: number;
  multiplier: number;
  pageSize: number;
}

function inRange(name: string, value: number, min: number, max: number, integer: boolean): number {
  if (!(Number.isFinite(value) && value >= min && value <= max) || (integer && !Number.isInteger(value))) {
    throw new UsageError(
      `${name} must be ${integer ? 'an integer ' : ''}between ${min} and ${max}; received ${describeValue(value)}`,
    );
  }
  return value;
}

/** Resolves and validates the polling and paging options once. */
export function resolvePolling(options: Partial<AthenaQueryOptions>): ResolvedPolling {
  const initial = inRange('pollInitialMs', options.pollInitialMs ?? 200, 1, 60_000, false);
  return {
    initial,
    max: inRange('pollMaxMs', options.pollMaxMs ?? Math.max(5_000, initial), initial, 60_000, false),
    multiplier: inRange('pollMultiplier', options.pollMultiplier ?? 2, 1, 10, false),
    pageSize: inRange('pageSize', options.pageSize ?? 1_000, 1, 1_000, true),
  };
}

/** The poll delays: initial, initial·m, initial·m², … capped at max. Pure. */
export function pollDelay(polling: ResolvedPolling, attempt: number): number {
  return Math.min(polling.max, polling.initial * polling.multiplier ** attempt);
}

function timerSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

const scanned = (e: QueryExecution | undefined) => Number(e?.Statistics?.DataScannedInBytes ?? 0);

/** Whether row 0 of the first page is the header row: it is for SELECT (statement type DML). */
function firstRowIsHeader(exec: QueryExecution | undefined): boolean {
  return exec?.StatementType === undefined || exec.StatementType === 'DML';
}

/**
 * Runs one SQL statement on Athena and returns its rows, typed from the result metadata.
 *
 * @throws {@link AthenaQueryFailedError} when the query FAILED (with Athena's reason);
 *   {@link AthenaQueryCancelledError} when it was CANCELLED or the signal aborted.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * process.once('SIGINT', () => ac.abort());
 * const { rows, stats } = await runAthenaQuery('SELECT count(*) AS n FROM events', {
 *   client: athenaClient(), workgroup: 'shardline', database: 'shardline', signal: ac.signal,
 * });
 * console.log(rows[0].n, stats.bytesScanned, stats.cost.usd);
 * ```
 */
export async function runAthenaQuery(sql: string, options: AthenaQueryOptions): Promise<AthenaQueryResult> {
  const polling = resolvePolling(options);
  const timeoutMs =
    options.timeoutMs === undefined
      ? undefined
      : inRange('timeoutMs', options.timeoutMs, 1, 86_400_000, false);
  const { client, signal } = options;
  const sleep = options.sleep ?? timerSleep;
  const started = performance.now();
  if (signal?.aborted) throw new QueryExecutionError('Athena query aborted before it started');
  const start = await client.send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      WorkGroup: options.workgroup,
      QueryExecutionContext: { Database: options.database, Catalog: options.catalog ?? 'AwsDataCatalog' },
    }),
  );
  const id = start.QueryExecutionId;
  if (!id) throw new QueryExecutionError('Athena StartQueryExecution returned no QueryExecutionId');

  const get = async () =>
    (await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution;

  const stop = async (): Promise<never> => {
    await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    let bytes = 0;
    try {
      bytes = scanned(await get());
    } catch {
      // The stop went through; the scanned bytes are only for the report.
    }
    throw new AthenaQueryCancelledError(id, 'stopped by the caller', true, athenaQueryCost(bytes));
  };

  let exec: QueryExecution | undefined;
  let polls = 0;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) return stop();
    exec = await get();
    polls++;
    const state = exec?.Status?.State;
    if (state !== undefined) options.onState?.(state, id);
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED') {
      throw new AthenaQueryFailedError(
        id,
        exec?.Status?.StateChangeReason ?? exec?.Status?.AthenaError?.ErrorMessage ?? 'no reason given',
        exec?.Status?.AthenaError?.ErrorCategory,
      );
    }
    if (state === 'CANCELLED') {
      throw new AthenaQueryCancelledError(
        id,
        exec?.Status?.StateChangeReason ?? 'cancelled outside this client (or by the workgroup scan cutoff)',
        false,
        athenaQueryCost(scanned(exec)),
      );
    }
    if (state !== 'QUEUED' && state !== 'RUNNING') {
      throw new QueryExecutionError(
        `Athena query ${id}: unexpected state ${describeValue(state)}; expected QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED`,
      );
    }
    if (timeoutMs !== undefined && performance.now() - started > timeoutMs) {
      await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw new AthenaQueryTimeoutError(id, timeoutMs, state);
    }
    await sleep(pollDelay(polling, attempt), signal);
  }

  const header = firstRowIsHeader(exec);
  let columns: AthenaColumn[] = [];
  const rows: Row[] = [];
  let token: string | undefined;
  let first = true;
  do {
    if (signal?.aborted) {
      throw new AthenaQueryCancelledError(
        id,
        'result reading aborted by the caller (the query had already succeeded)',
        true,
        athenaQueryCost(scanned(exec)),
      );
    }
    const page = await client.send(
      new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: polling.pageSize, NextToken: token }),
    );
    if (first) columns = columnsOf(page.ResultSet?.ResultSetMetadata?.ColumnInfo);
    rows.push(...typedRows(columns, page.ResultSet?.Rows, first && header));
    token = page.NextToken;
    first = false;
  } while (token);

  const stats = exec?.Statistics;
  return {
    queryExecutionId: id,
    columns: columns.map((c) => c.name),
    columnTypes: columns,
    rows,
    stats: {
      bytesScanned: scanned(exec),
      filesScanned: null,
      elapsedMs: performance.now() - started,
      engineExecutionTimeMs: stats?.EngineExecutionTimeInMillis ?? null,
      queueTimeMs: stats?.QueryQueueTimeInMillis ?? null,
      polls,
      cost: athenaQueryCost(scanned(exec)),
    },
  };
}
