import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AthenaClient,
  BatchGetNamedQueryCommand,
  GetNamedQueryCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetWorkGroupCommand,
  InvalidRequestException,
  ListNamedQueriesCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../common/config.ts';
import type { ShardlineEvent } from '../../../../common/envelope.ts';
import { type AthenaServer, startAthenaServer } from '../../../../infra/local/athena/api.ts';
import { LocalAthena } from '../../../../infra/local/athena/service.ts';
import {
  AthenaQueryFailedError,
  AthenaQueryTimeoutError,
  athenaClient,
  runAthenaQuery,
} from '../../../../queries/athena/index.ts';
import { CATALOG_DIR, loadCatalog } from '../../../../queries/catalog.ts';
import { writeArchive } from '../../../helpers/archive.ts';
import { T0 } from '../../../helpers/factories.ts';

const config = resolveConfig({ athena: { database: 'analytics', workgroup: 'wg-test' } });
const TYPES = ['click', 'pageview', 'telemetry', 'purchase'] as const;
const events: ShardlineEvent[] = Array.from({ length: 57 }, (_, i) => ({
  v: 1,
  eventId: `e-${i}`,
  source: `dev-${i % 5}`,
  type: TYPES[(i * 7) % TYPES.length]!,
  ts: T0 + i * 1_000,
  metrics: (i % 3 === 0 ? {} : { temperature: i / 4 }) as Record<string, number>,
  dims: { site: i % 2 === 0 ? 'berlin' : 'paris' },
}));

let dataDir: string;
let athena: LocalAthena;
let server: AthenaServer;
let client: AthenaClient;
const base = () => ({ client, workgroup: 'wg-test', database: 'analytics', pollInitialMs: 5, pollMaxMs: 50 });

async function finished(id: string): Promise<QueryExecution> {
  for (;;) {
    const e = (await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution!;
    if (!['QUEUED', 'RUNNING'].includes(e.Status!.State!)) return e;
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ||= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ||= 'local';
  dataDir = await mkdtemp(join(tmpdir(), 'athena-api-'));
  await writeArchive({ dataDir, events: events.map((event) => ({ event })) });
  athena = new LocalAthena({ config, dataDir, resultsBucket: 'results-bucket', catalogDir: CATALOG_DIR });
  server = await startAthenaServer(athena);
  client = athenaClient({ endpoint: server.endpoint, region: 'eu-west-1', maxAttempts: 1 });
});

afterAll(async () => {
  client.destroy();
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('local Athena through @aws-sdk/client-athena', () => {
  it('runs a query over the Glue table names and returns typed rows, statistics and a CSV result', async () => {
    const r = await runAthenaQuery(
      "SELECT type, count(*) AS n, sum(metrics['temperature']) AS t FROM events GROUP BY type ORDER BY type",
      base(),
    );
    // Reference: a plain fold of the events written.
    const expected = [...TYPES].sort().map((type) => {
      const of = events.filter((e) => e.type === type);
      const temps = of.flatMap((e) => (e.metrics.temperature === undefined ? [] : [e.metrics.temperature]));
      return { type, n: of.length, t: temps.length === 0 ? null : temps.reduce((a, b) => a + b, 0) };
    });
    expect(r.columns).toEqual(['type', 'n', 't']);
    expect(r.columnTypes.map((c) => c.type)).toEqual(['varchar', 'bigint', 'double']);
    expect(r.rows.map((x) => x.type)).toEqual(expected.map((x) => x.type));
    expect(r.rows.map((x) => x.n)).toEqual(expected.map((x) => x.n));
    r.rows.forEach((row, i) => {
      expect(row.t).toBeCloseTo(expected[i]!.t ?? Number.NaN, 9);
    });
    expect(r.stats.bytesScanned).toBeGreaterThan(0);
    const exec = await finished(r.queryExecutionId);
    expect(exec.StatementType).toBe('DML');
    expect(exec.WorkGroup).toBe('wg-test');
    expect(exec.QueryExecutionContext).toEqual({ Database: 'analytics', Catalog: 'AwsDataCatalog' });
    expect(exec.Status?.SubmissionDateTime).toBeInstanceOf(Date);
    expect(exec.Status?.CompletionDateTime).toBeInstanceOf(Date);
    expect(exec.Statistics?.DataScannedInBytes).toBe(r.stats.bytesScanned);
    const out = exec.ResultConfiguration!.OutputLocation!;
    expect(out).toBe(`s3://results-bucket/results/${r.queryExecutionId}.csv`);
    const csv = await readFile(
      join(dataDir, 's3', 'results-bucket', 'results', `${r.queryExecutionId}.csv`),
      'utf8',
    );
    expect(csv.split('\n')[0]).toBe('"type","n","t"');
    expect(csv.trim().split('\n')).toHaveLength(TYPES.length + 1);
  });

  it('resolves database-qualified names and renders timestamps and maps as Athena does', async () => {
    const r = await runAthenaQuery("SELECT ts, dims FROM analytics.events WHERE eventid = 'e-3'", base());
    expect(r.columnTypes.map((c) => c.type)).toEqual(['timestamp', 'map']);
    expect(r.rows).toEqual([{ ts: new Date(T0 + 3_000).toISOString(), dims: '{site=paris}' }]);
  });

  it('pages GetQueryResults: the header row only on the first page, within MaxResults, NextToken while rows remain', async () => {
    const start = await client.send(
      new StartQueryExecutionCommand({
        QueryString: 'SELECT eventid FROM events ORDER BY ts',
        WorkGroup: 'wg-test',
        QueryExecutionContext: { Database: 'analytics' },
      }),
    );
    const id = start.QueryExecutionId!;
    expect((await finished(id)).Status?.State).toBe('SUCCEEDED');
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const p = await client.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 10, NextToken: token }),
      );
      expect(p.ResultSet?.ResultSetMetadata?.ColumnInfo?.[0]).toMatchObject({
        Name: 'eventid',
        Type: 'varchar',
      });
      pages.push((p.ResultSet?.Rows ?? []).map((row) => row.Data?.[0]?.VarCharValue ?? '<null>'));
      token = p.NextToken;
    } while (token);
    expect(pages[0]![0]).toBe('eventid');
    expect(pages.every((p) => p.length <= 10)).toBe(true);
    expect(pages.slice(1).every((p) => !p.includes('eventid'))).toBe(true);
    expect(pages.flat().slice(1)).toEqual(events.map((e) => e.eventId));
    expect(pages).toHaveLength(Math.ceil((events.length + 1) / 10));

    await expect(
      client.send(new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: 1001 })),
    ).rejects.toThrow(/MaxResults is more than maximum allowed length 1000/);
  });

  it('a SQL error ends FAILED with the error in StateChangeReason; the client throws it', async () => {
    const err = await runAthenaQuery('SELECT no_such_column FROM events', base()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AthenaQueryFailedError);
    const failed = err as AthenaQueryFailedError;
    expect(failed.reason).toMatch(/^COLUMN_NOT_FOUND: .*no_such_column/);
    const exec = await finished(failed.queryExecutionId);
    expect(exec.Status?.State).toBe('FAILED');
    expect(exec.Status?.AthenaError?.ErrorCategory).toBe(2);
    const res = await client
      .send(new GetQueryResultsCommand({ QueryExecutionId: failed.queryExecutionId }))
      .catch((e: unknown) => e);
    expect(res).toBeInstanceOf(InvalidRequestException);

    const schema = await runAthenaQuery('SELECT 1', { ...base(), database: 'nope' }).catch((e: unknown) => e);
    expect((schema as AthenaQueryFailedError).reason).toMatch(
      /SCHEMA_NOT_FOUND: Schema 'nope' does not exist/,
    );
  });

  it('rejects an unknown workgroup and an unknown execution id with InvalidRequestException', async () => {
    const wg = await client
      .send(new StartQueryExecutionCommand({ QueryString: 'SELECT 1', WorkGroup: 'nope' }))
      .catch((e: unknown) => e);
    expect(wg).toBeInstanceOf(InvalidRequestException);
    expect((wg as Error).message).toBe('WorkGroup nope is not found.');
    const id = await client
      .send(new GetQueryExecutionCommand({ QueryExecutionId: '00000000-0000-4000-8000-000000000000' }))
      .catch((e: unknown) => e);
    expect(id).toBeInstanceOf(InvalidRequestException);
    expect((id as InvalidRequestException).AthenaErrorCode).toBe('INVALID_INPUT');
  });

  it('StopQueryExecution cancels a queued query; the same ClientRequestToken starts no second query', async () => {
    const start = (sql: string, token?: string) =>
      client.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          WorkGroup: 'wg-test',
          QueryExecutionContext: { Database: 'analytics' },
          ...(token ? { ClientRequestToken: token } : {}),
        }),
      );
    // One query runs at a time: the second waits behind the first (a long scan of a generated range).
    const slow = await start('SELECT count(*) FROM range(200000000)');
    const queued = await start('SELECT 1');
    await client.send(new StopQueryExecutionCommand({ QueryExecutionId: queued.QueryExecutionId! }));
    expect((await finished(queued.QueryExecutionId!)).Status?.State).toBe('CANCELLED');
    expect((await finished(slow.QueryExecutionId!)).Status?.State).toBe('SUCCEEDED');

    const token = 'token-0123456789-0123456789-0123456789';
    const a = await start('SELECT 2', token);
    const b = await start('SELECT 2', token);
    expect(b.QueryExecutionId).toBe(a.QueryExecutionId);
  });

  it("a query past the caller's timeout is stopped and the error names its execution id", async () => {
    const err = await runAthenaQuery('SELECT count(*) FROM range(300000000)', {
      ...base(),
      timeoutMs: 30,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AthenaQueryTimeoutError);
    const id = (err as AthenaQueryTimeoutError).queryExecutionId;
    expect((err as Error).message).toContain(`Athena query ${id} did not finish within 30 ms`);
    expect((await finished(id)).Status?.State).toBe('CANCELLED');
  });

  it('answers GetWorkGroup and the catalog as named queries', async () => {
    const wg = (await client.send(new GetWorkGroupCommand({ WorkGroup: 'wg-test' }))).WorkGroup!;
    expect(wg.Configuration?.ResultConfiguration?.OutputLocation).toBe('s3://results-bucket/results/');
    expect(wg.Configuration?.BytesScannedCutoffPerQuery).toBe(config.athena.bytesScannedCutoffPerQuery);
    const ids = (await client.send(new ListNamedQueriesCommand({ WorkGroup: 'wg-test', MaxResults: 50 })))
      .NamedQueryIds!;
    const got = await client.send(new BatchGetNamedQueryCommand({ NamedQueryIds: [...ids, 'missing-id'] }));
    expect(got.NamedQueries?.map((q) => q.Name).sort()).toEqual(
      loadCatalog()
        .map((q) => q.name)
        .sort(),
    );
    expect(got.UnprocessedNamedQueryIds?.map((u) => u.NamedQueryId)).toEqual(['missing-id']);
    const one = (await client.send(new GetNamedQueryCommand({ NamedQueryId: ids[0]! }))).NamedQuery!;
    expect(one.Database).toBe('analytics');
    expect(one.QueryString).toContain('-- name:');
  });
});
