import { beforeAll, describe, expect, it } from 'vitest';
import {
  AthenaQueryCancelledError,
  AthenaQueryFailedError,
  athenaClient,
  athenaQueryCost,
  pollDelay,
  resolvePolling,
  runAthenaQuery,
  toTypedCell,
} from '../../../../queries/athena/index.ts';
import { column, execution, page, type Recorded, RecordedAthena } from '../../../helpers/athena-recorded.ts';

const ID = '6b1e2c7a-3f4d-4e5f-9a8b-1c2d3e4f5a6b';
const MB = 2 ** 20;

beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
});

function setup(responses: readonly Recorded[]) {
  const handler = new RecordedAthena(responses);
  const client = athenaClient({ region: 'us-east-1', maxAttempts: 3, requestHandler: handler });
  const delays: number[] = [];
  const base = {
    client,
    workgroup: 'shardline',
    database: 'shardline',
    sleep: async (ms: number) => {
      delays.push(ms);
    },
  };
  return { handler, client, delays, base };
}

const start: Recorded = { op: 'StartQueryExecution', body: { QueryExecutionId: ID } };

describe('runAthenaQuery', () => {
  it('polls through QUEUED/RUNNING (and back to QUEUED), then reads every page, dropping only the first header row', async () => {
    const cols = [column('type', 'varchar'), column('n', 'bigint'), column('avg_temp', 'double')];
    const { handler, delays, base } = setup([
      start,
      execution(ID, 'QUEUED'),
      execution(ID, 'RUNNING'),
      execution(ID, 'QUEUED'),
      execution(ID, 'RUNNING'),
      execution(ID, 'SUCCEEDED', { bytes: 123_456_789 }),
      page(
        cols,
        [
          ['type', 'n', 'avg_temp'],
          ['telemetry', '41', '21.5'],
          ['click', '7', null],
        ],
        'tok-1',
      ),
      page(
        cols,
        [
          ['pageview', '3', '1e-3'],
          ['type', '2', '0'],
        ],
        'tok-2',
      ),
      page(cols, [['purchase', '9007199254740993', 'NaN']]),
    ]);
    const states: string[] = [];
    const result = await runAthenaQuery('SELECT type, count(*) AS n FROM events GROUP BY 1', {
      ...base,
      pageSize: 3,
      onState: (s) => states.push(s),
    });

    expect(result.queryExecutionId).toBe(ID);
    expect(result.columns).toEqual(['type', 'n', 'avg_temp']);
    expect(result.rows).toEqual([
      { type: 'telemetry', n: 41, avg_temp: 21.5 },
      { type: 'click', n: 7, avg_temp: null },
      { type: 'pageview', n: 3, avg_temp: 0.001 },
      // A data row equal to the header on a later page is data: only page 1 has a header row.
      { type: 'type', n: 2, avg_temp: 0 },
      { type: 'purchase', n: '9007199254740993', avg_temp: Number.NaN },
    ]);
    expect(states).toEqual(['QUEUED', 'RUNNING', 'QUEUED', 'RUNNING', 'SUCCEEDED']);
    expect(delays).toEqual([200, 400, 800, 1600]);
    expect(result.stats.bytesScanned).toBe(123_456_789);
    expect(result.stats.polls).toBe(5);
    expect(result.stats.engineExecutionTimeMs).toBe(3_210);
    expect(result.stats.cost).toEqual(athenaQueryCost(123_456_789));
    expect(handler.remaining).toBe(0);

    const [s, ...rest] = handler.sent;
    expect(s!.op).toBe('StartQueryExecution');
    expect(s!.body).toMatchObject({
      QueryString: 'SELECT type, count(*) AS n FROM events GROUP BY 1',
      WorkGroup: 'shardline',
      QueryExecutionContext: { Database: 'shardline', Catalog: 'AwsDataCatalog' },
    });
    expect(typeof s!.body.ClientRequestToken).toBe('string');
    const results = rest.filter((r) => r.op === 'GetQueryResults').map((r) => r.body);
    expect(results).toEqual([
      { QueryExecutionId: ID, MaxResults: 3 },
      { QueryExecutionId: ID, MaxResults: 3, NextToken: 'tok-1' },
      { QueryExecutionId: ID, MaxResults: 3, NextToken: 'tok-2' },
    ]);
  });

  it('keeps row 0 of a statement that is not a SELECT (no header row)', async () => {
    const cols = [column('partition', 'string')];
    const { base } = setup([
      start,
      execution(ID, 'SUCCEEDED', { statementType: 'UTILITY' }),
      page(cols, [['dt=2026-11-22-10'], ['dt=2026-11-22-11']]),
    ]);
    const result = await runAthenaQuery('SHOW PARTITIONS events', base);
    expect(result.rows).toEqual([{ partition: 'dt=2026-11-22-10' }, { partition: 'dt=2026-11-22-11' }]);
  });

  it('reports FAILED with Athena’s StateChangeReason and reads no results', async () => {
    const reason = "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved";
    const { handler, base } = setup([
      start,
      execution(ID, 'RUNNING'),
      execution(ID, 'FAILED', { reason, errorCategory: 2 }),
    ]);
    const err = await runAthenaQuery('SELECT nope FROM events', base).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AthenaQueryFailedError);
    const failed = err as AthenaQueryFailedError;
    expect(failed.reason).toBe(reason);
    expect(failed.errorCategory).toBe(2);
    expect(failed.queryExecutionId).toBe(ID);
    expect(failed.message).toContain(reason);
    expect(handler.sent.map((r) => r.op)).not.toContain('GetQueryResults');
  });

  it('reports a query CANCELLED elsewhere (e.g. the workgroup scan cutoff) with what it was billed', async () => {
    const reason = 'Query cancelled: bytes scanned exceeded the workgroup limit';
    const { base } = setup([
      start,
      execution(ID, 'RUNNING'),
      execution(ID, 'CANCELLED', { reason, bytes: 10_000_000_001 }),
    ]);
    const err = (await runAthenaQuery('SELECT * FROM events', base).catch(
      (e: unknown) => e,
    )) as AthenaQueryCancelledError;
    expect(err).toBeInstanceOf(AthenaQueryCancelledError);
    expect(err.stoppedByUs).toBe(false);
    expect(err.message).toContain(reason);
    expect(err.cost.billedBytes).toBe(Math.ceil(10_000_000_001 / MB) * MB);
  });

  it('stops the query (StopQueryExecution) when the signal aborts while it runs', async () => {
    const { handler, base } = setup([
      start,
      execution(ID, 'RUNNING'),
      { op: 'StopQueryExecution', body: {} },
      execution(ID, 'CANCELLED', { bytes: 5 * MB }),
    ]);
    const ac = new AbortController();
    const err = (await runAthenaQuery('SELECT * FROM events', {
      ...base,
      signal: ac.signal,
      // Ctrl-C arrives while we wait between polls.
      sleep: async () => ac.abort(),
    }).catch((e: unknown) => e)) as AthenaQueryCancelledError;
    expect(err).toBeInstanceOf(AthenaQueryCancelledError);
    expect(err.stoppedByUs).toBe(true);
    expect(err.cost.billedBytes).toBe(10 * MB);
    const stop = handler.sent.find((r) => r.op === 'StopQueryExecution');
    expect(stop?.body).toEqual({ QueryExecutionId: ID });
    expect(handler.remaining).toBe(0);
  });

  it('retries a throttled StartQueryExecution with the same ClientRequestToken (no duplicate query)', async () => {
    const { handler, base } = setup([
      {
        op: 'StartQueryExecution',
        status: 400,
        errorType: 'TooManyRequestsException',
        body: {
          __type: 'TooManyRequestsException',
          Message: 'Rate exceeded',
          Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED',
        },
      },
      start,
      execution(ID, 'SUCCEEDED', { bytes: 0 }),
      page([column('n', 'bigint')], [['n'], ['0']]),
    ]);
    const result = await runAthenaQuery('SELECT count(*) AS n FROM events WHERE false', base);
    expect(result.rows).toEqual([{ n: 0 }]);
    const starts = handler.sent.filter((r) => r.op === 'StartQueryExecution');
    expect(starts).toHaveLength(2);
    expect(starts[0]!.body.ClientRequestToken).toBe(starts[1]!.body.ClientRequestToken);
    expect(result.stats.cost.usd).toBe(0);
  });

  it('does not start anything when the signal is already aborted', async () => {
    const { handler, base } = setup([]);
    const ac = new AbortController();
    ac.abort();
    await expect(runAthenaQuery('SELECT 1', { ...base, signal: ac.signal })).rejects.toThrow(
      /aborted before it started/,
    );
    expect(handler.sent).toEqual([]);
  });
});

describe('typed values', () => {
  it('converts each Athena type', () => {
    expect(toTypedCell('integer', '-12')).toBe(-12);
    expect(toTypedCell('bigint', '9007199254740991')).toBe(9007199254740991);
    expect(toTypedCell('bigint', '9223372036854775807')).toBe('9223372036854775807');
    expect(toTypedCell('double', '2.5E-4')).toBe(0.00025);
    expect(toTypedCell('double', 'Infinity')).toBe(Number.POSITIVE_INFINITY);
    expect(toTypedCell('decimal', '123.45')).toBe(123.45);
    expect(toTypedCell('decimal', '12345678901234567.89')).toBe('12345678901234567.89');
    expect(toTypedCell('boolean', 'true')).toBe(true);
    expect(toTypedCell('boolean', 'false')).toBe(false);
    expect(toTypedCell('timestamp', '2026-11-22 10:00:01.500')).toBe('2026-11-22T10:00:01.500Z');
    expect(toTypedCell('timestamp', '2026-11-22 10:00:01')).toBe('2026-11-22T10:00:01.000Z');
    expect(toTypedCell('timestamp', '2026-11-22 10:00:01.123456 UTC')).toBe('2026-11-22T10:00:01.123Z');
    expect(toTypedCell('date', '2026-11-22')).toBe('2026-11-22');
    expect(toTypedCell('map', '{temperature=21.5, humidity=40.0}')).toBe('{temperature=21.5, humidity=40.0}');
    expect(toTypedCell('array', '[a, b]')).toBe('[a, b]');
    expect(toTypedCell('varchar', '')).toBe('');
    expect(toTypedCell('varchar', undefined)).toBeNull();
  });
});

describe('cost', () => {
  it('rounds up per MB with a 10 MB minimum at $5/TB; failed or empty scans cost nothing', () => {
    expect(athenaQueryCost(0)).toEqual({ bytesScanned: 0, billedBytes: 0, usd: 0 });
    expect(athenaQueryCost(1).billedBytes).toBe(10 * MB);
    expect(athenaQueryCost(10 * MB + 1).billedBytes).toBe(11 * MB);
    expect(athenaQueryCost(2 ** 40).usd).toBe(5);
    expect(athenaQueryCost(2 ** 40, false).usd).toBe(0);
    expect(athenaQueryCost(1).usd).toBeCloseTo((10 * MB * 5) / 2 ** 40, 15);
    expect(() => athenaQueryCost(-1)).toThrow(/received -1/);
  });
});

describe('polling options', () => {
  it('backs off exponentially up to the cap', () => {
    const p = resolvePolling({ pollInitialMs: 100, pollMaxMs: 1000, pollMultiplier: 3 });
    expect([0, 1, 2, 3, 4].map((a) => pollDelay(p, a))).toEqual([100, 300, 900, 1000, 1000]);
  });
  it('rejects bad values with the value received and the rule', () => {
    expect(() => resolvePolling({ pageSize: 1001 })).toThrow(
      'pageSize must be an integer between 1 and 1000; received 1001',
    );
    expect(() => resolvePolling({ pollInitialMs: 0 })).toThrow(/between 1 and 60000; received 0/);
    expect(() => resolvePolling({ pollInitialMs: 500, pollMaxMs: 100 })).toThrow(
      /pollMaxMs must be between 500 and 60000; received 100/,
    );
  });
});
