import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  type KinesisClient,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kinesisClient } from '../../../../common/aws.ts';
import { resolveConfig, type ShardlineConfigInput } from '../../../../common/config.ts';
import { ARCHIVE_COLUMNS } from '../../../../common/envelope.ts';
import { type Emulator, startKinesis } from '../../../../infra/local/emulators.ts';
import { LocalFirehose } from '../../../../infra/local/firehose.ts';

const { RecordAggregator } = require('aws-kinesis-agg') as {
  RecordAggregator: new () => {
    addUserRecord(r: { partitionKey: string; data: Buffer }): void;
    build(): { partitionKey: string; data: Buffer };
  };
};

let emulator: Emulator;
let kinesis: KinesisClient;
let streamCounter = 0;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ||= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ||= 'local';
  emulator = await startKinesis({ shardLimit: 1000 });
  kinesis = kinesisClient({ endpoint: emulator.endpoint, region: 'us-east-1' });
});

afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

afterAll(async () => {
  kinesis.destroy();
  await emulator.close();
});

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function createStream(shards: number): Promise<string> {
  const name = `s${++streamCounter}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitFor('stream', async () => {
    const d = await kinesis.send(new DescribeStreamCommand({ StreamName: name }));
    return d.StreamDescription?.StreamStatus === 'ACTIVE' ? true : undefined;
  });
  return name;
}

async function setup(
  archive: ShardlineConfigInput['archive'],
  opts: { dataDir?: string; shards?: number; stream?: string } = {},
) {
  const stream = opts.stream ?? (await createStream(opts.shards ?? 2));
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'firehose-')));
  const config = resolveConfig({ stream: { name: stream }, archive });
  const logs: string[] = [];
  const firehose = await LocalFirehose.start({
    config,
    dataDir,
    kinesisClient: kinesis,
    region: 'us-east-1',
    pollIntervalMs: 50,
    log: (l) => logs.push(l),
  });
  cleanup.push(async () => {
    await firehose.stop();
    if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
  });
  const bucket = join(dataDir, 's3', config.archive.bucket);
  return { firehose, dataDir, stream, config, bucket, logs };
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)))
      .sort();
  } catch {
    return [];
  }
}

async function put(stream: string, records: string[]): Promise<void> {
  const res = await kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: records.map((r, i) => ({ Data: Buffer.from(r), PartitionKey: `pk-${i}` })),
    }),
  );
  expect(res.FailedRecordCount).toBe(0);
}

const event = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    v: 1,
    eventId: `e${i}`,
    source: `dev-${i % 3}`,
    type: 'telemetry',
    ts: '2026-11-22T01:45:12.345Z',
    metrics: { temperature: i + 0.5 },
    dims: { site: 'berlin' },
    ...extra,
  });

function sortedLines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .sort();
}

describe('LocalFirehose with a Kinesis source', () => {
  it('delivers JSON objects named <prefix><stream>-1-<time>-<uuid>, records concatenated without separator', async () => {
    const { firehose, stream, bucket } = await setup({
      format: 'json',
      bufferSizeMiB: 1,
      bufferIntervalSeconds: 900,
    });
    const records = Array.from({ length: 20 }, (_, i) => `${event(i)}\n`);
    const before = Date.now();
    await put(stream, records);
    await firehose.drain({ timeoutMs: 10_000 });
    const after = Date.now();
    const files = await listFiles(bucket);
    expect(files).toHaveLength(1);
    const file = files[0] ?? '';
    const m =
      /^raw\/dt=(\d{4}-\d{2}-\d{2}-\d{2})\/shardline-archive-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9a-f-]{36}$/.exec(
        file,
      );
    expect(m, file).not.toBeNull();
    const [, dt, y, mo, d, h, mi, s] = m ?? [];
    const named = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    expect(named).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(named).toBeLessThanOrEqual(after);
    expect(dt).toBe(`${y}-${mo}-${d}-${h}`);
    const content = await readFile(join(bucket, file), 'utf8');
    expect(content.length).toBe(records.join('').length);
    expect(sortedLines(content)).toEqual(sortedLines(records.join('')));
    expect(firehose.stats()).toMatchObject({
      recordsRead: 20,
      recordsDelivered: 20,
      objectsWritten: 1,
      errorsWritten: 0,
    });
  });

  it('starts at LATEST: records already in the stream are not delivered', async () => {
    const stream = await createStream(1);
    await put(stream, ['old-1', 'old-2']);
    const { firehose, bucket } = await setup(
      { format: 'json', bufferSizeMiB: 1, bufferIntervalSeconds: 900 },
      { stream },
    );
    await put(stream, ['new']);
    await firehose.drain({ timeoutMs: 10_000 });
    const files = await listFiles(bucket);
    expect(files).toHaveLength(1);
    expect(await readFile(join(bucket, files[0] ?? ''), 'utf8')).toBe('new');
  });

  it('gzips objects in json.gz mode with a .gz extension', async () => {
    const { firehose, stream, bucket } = await setup(
      { format: 'json.gz', bufferSizeMiB: 1, bufferIntervalSeconds: 900 },
      { shards: 1 },
    );
    await put(stream, ['a\n', 'b\n', 'c\n']);
    await firehose.drain({ timeoutMs: 10_000 });
    const files = await listFiles(bucket);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.gz$/);
    expect(gunzipSync(await readFile(join(bucket, files[0] ?? ''))).toString()).toBe('a\nb\nc\n');
  });

  it('deaggregates KPL aggregated records (plain records pass through)', async () => {
    const { firehose, stream, bucket } = await setup(
      { format: 'json', bufferSizeMiB: 1, bufferIntervalSeconds: 900 },
      { shards: 1 },
    );
    const aggregator = new RecordAggregator();
    for (const r of ['u1;', 'u2;', 'u3;'])
      aggregator.addUserRecord({ partitionKey: 'k', data: Buffer.from(r) });
    const aggregated = aggregator.build();
    expect(aggregated.data.subarray(0, 4).toString('hex')).toBe('f3899ac2');
    await kinesis.send(
      new PutRecordCommand({ StreamName: stream, PartitionKey: 'k', Data: aggregated.data }),
    );
    await put(stream, ['plain;']);
    await firehose.drain({ timeoutMs: 10_000 });
    const files = await listFiles(bucket);
    expect(await readFile(join(bucket, files[0] ?? ''), 'utf8')).toBe('u1;u2;u3;plain;');
    expect(firehose.stats().recordsRead).toBe(4);
  });

  it('delivers when the size hint is reached, without waiting for the interval', async () => {
    const { firehose, stream, bucket } = await setup(
      { format: 'json', bufferSizeMiB: 1, bufferIntervalSeconds: 900 },
      { shards: 1 },
    );
    const big = 'x'.repeat(100 * 1024);
    await put(
      stream,
      Array.from({ length: 12 }, () => big),
    );
    const files = await waitFor('a size-triggered object', async () => {
      const f = await listFiles(bucket);
      return f.length > 0 ? f : undefined;
    });
    expect(files).toHaveLength(1);
    const first = await readFile(join(bucket, files[0] ?? ''));
    expect(first.byteLength).toBe(10 * 100 * 1024); // 10 records fit in 1 MiB, the 11th would overflow
    await firehose.flush();
    expect(await listFiles(bucket)).toHaveLength(2);
    expect(firehose.stats().recordsDelivered).toBe(12);
  });

  it('delivers when the interval has passed since the first record', async () => {
    const { firehose, stream, bucket } = await setup(
      { format: 'json', bufferSizeMiB: 5, bufferIntervalSeconds: 1 },
      { shards: 1 },
    );
    await put(stream, ['a', 'b', 'c']);
    await waitFor('interval-triggered delivery', async () =>
      firehose.stats().recordsDelivered === 3 ? true : undefined,
    );
    const files = await listFiles(bucket);
    const all = await Promise.all(files.map((f) => readFile(join(bucket, f), 'utf8')));
    expect(all.join('')).toBe('abc');
    expect(firehose.stats().objectsWritten).toBe(files.length);
  });

  it('converts to Parquet with exactly the archive columns, and sends conversion failures to the error prefix', async () => {
    const { firehose, stream, bucket, config } = await setup({}, { shards: 1 });
    expect(config.archive.format).toBe('parquet');
    const good = [
      event(1),
      JSON.stringify({
        V: 1,
        EventID: "it's",
        SOURCE: 'd',
        Type: 't',
        TS: 1_790_000_000_123,
        Metrics: { a: 2 },
        DIMS: { Site: 'x' },
      }),
      JSON.stringify({ v: 1, eventId: 'partial' }),
    ];
    const bad = ['not json', '[1]', JSON.stringify({ v: 1, ts: 'yesterday' })];
    await put(stream, [
      good[0] ?? '',
      bad[0] ?? '',
      good[1] ?? '',
      bad[1] ?? '',
      good[2] ?? '',
      bad[2] ?? '',
    ]);
    await firehose.drain({ timeoutMs: 20_000 });
    const files = await listFiles(bucket);
    const parquet = files.filter((f) => f.startsWith('raw/'));
    const errors = files.filter((f) => f.startsWith('errors/'));
    expect(parquet).toHaveLength(1);
    expect(parquet[0]).toMatch(/^raw\/dt=\d{4}-\d{2}-\d{2}-\d{2}\/shardline-archive-1-.*\.parquet$/);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^errors\/format-conversion-failed\/dt=\d{4}-\d{2}-\d{2}-\d{2}\/shardline-archive-1-[-0-9]+-[0-9a-f-]{36}$/,
    );

    const duck = await DuckDBInstance.create(':memory:');
    const c = await duck.connect();
    try {
      const path = join(bucket, parquet[0] ?? '').replaceAll("'", "''");
      const schema = (
        await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}', hive_partitioning = false)`)
      ).getRowObjectsJson();
      expect(schema.map((r) => [r.column_name, r.column_type])).toEqual(
        ARCHIVE_COLUMNS.map((col) => [col.name, col.duckdbType]),
      );
      const rows = (
        await c.runAndReadAll(
          `SELECT v, eventid, source, type, epoch_ms(ts) AS ts, metrics['temperature'] AS temp, metrics['a'] AS a,
                  dims['site'] AS site, dims['Site'] AS site2, dims IS NULL AS nodims
           FROM read_parquet('${path}', hive_partitioning = false) ORDER BY eventid`,
        )
      ).getRowObjectsJson();
      expect(rows).toEqual([
        {
          v: 1,
          eventid: 'e1',
          source: 'dev-1',
          type: 'telemetry',
          ts: String(Date.UTC(2026, 10, 22, 1, 45, 12, 345)),
          temp: 1.5,
          a: null,
          site: 'berlin',
          site2: null,
          nodims: false,
        },
        {
          v: 1,
          eventid: "it's",
          source: 'd',
          type: 't',
          ts: '1790000000123',
          temp: null,
          a: 2,
          site: null,
          site2: 'x',
          nodims: false,
        },
        {
          v: 1,
          eventid: 'partial',
          source: null,
          type: null,
          ts: null,
          temp: null,
          a: null,
          site: null,
          site2: null,
          nodims: true,
        },
      ]);
    } finally {
      c.closeSync();
      duck.closeSync();
    }

    const lines = (await readFile(join(bucket, errors[0] ?? ''), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => Buffer.from(l.rawData, 'base64').toString())).toEqual(bad);
    for (const l of lines) {
      expect(l).toMatchObject({
        attemptsMade: 1,
        lastErrorCode: 'DataFormatConversion.MalformedData',
        subSequenceNumber: null,
        dataCatalogTable: {
          databaseName: 'shardline',
          tableName: 'events',
          region: 'us-east-1',
          versionId: 'LATEST',
        },
      });
      expect(typeof l.arrivalTimestamp).toBe('number');
      expect(l.sequenceNumber).toMatch(/^\d+$/);
      expect(typeof l.lastErrorMessage).toBe('string');
    }
    expect(firehose.stats()).toMatchObject({
      recordsRead: 6,
      recordsDelivered: 3,
      errorsWritten: 3,
      objectsWritten: 2,
    });
  });

  it('resumes from its checkpoints after a restart, delivering what arrived while stopped exactly once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'firehose-restart-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const archive = { format: 'json', bufferSizeMiB: 1, bufferIntervalSeconds: 900 } as const;
    const first = await setup(archive, { dataDir, shards: 2 });
    await put(first.stream, ['a1\n', 'a2\n', 'a3\n']);
    await first.firehose.drain({ timeoutMs: 10_000 });
    await first.firehose.stop();
    await put(first.stream, ['b1\n', 'b2\n']);

    const second = await setup(archive, { dataDir, stream: first.stream });
    await put(first.stream, ['c1\n']);
    await second.firehose.drain({ timeoutMs: 10_000 });
    const files = await listFiles(second.bucket);
    expect(files).toHaveLength(2);
    const all = await Promise.all(files.map((f) => readFile(join(second.bucket, f), 'utf8')));
    expect(sortedLines(all.join(''))).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'c1']);
    expect(second.firehose.stats().recordsRead).toBe(3);
    const checkpoints = JSON.parse(
      await readFile(join(dataDir, 'firehose', 'shardline-archive.checkpoints.json'), 'utf8'),
    );
    expect(Object.keys(checkpoints.shards)).toHaveLength(2);
  });

  it('reads split children after their parent ends', async () => {
    const { firehose, stream, bucket } = await setup(
      { format: 'json', bufferSizeMiB: 1, bufferIntervalSeconds: 900 },
      { shards: 1 },
    );
    await put(stream, ['p1\n', 'p2\n']);
    await kinesis.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: 'shardId-000000000000',
        NewStartingHashKey: (2n ** 127n).toString(),
      }),
    );
    await waitFor('split', async () => {
      const shards = await kinesis.send(new ListShardsCommand({ StreamName: stream }));
      return (shards.Shards?.length ?? 0) === 3 ? true : undefined;
    });
    await waitFor('stream active', async () => {
      const d = await kinesis.send(new DescribeStreamCommand({ StreamName: stream }));
      return d.StreamDescription?.StreamStatus === 'ACTIVE' ? true : undefined;
    });
    await put(stream, ['c1\n', 'c2\n', 'c3\n', 'c4\n']);
    await firehose.drain({ timeoutMs: 10_000 });
    const files = await listFiles(bucket);
    const all = await Promise.all(files.map((f) => readFile(join(bucket, f), 'utf8')));
    expect(sortedLines(all.join(''))).toEqual(['c1', 'c2', 'c3', 'c4', 'p1', 'p2']);
    const text = all.join('');
    expect(text.indexOf('p2')).toBeLessThan(text.indexOf('c1'));
  });
});
