import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localKinesisOptions, register } from '../../../cli/commands/produce.ts';
import { validateEnvelope } from '../../../common/envelope.ts';
import { produce } from '../../../producers/index.ts';
import { type LocalKinesis, startKinesalite } from '../../helpers/kinesalite.ts';

let kinesis: LocalKinesis;
let n = 0;
beforeAll(async () => {
  kinesis = await startKinesalite();
});
afterAll(async () => {
  await kinesis.close();
});
const newStream = async (shards = 3) => {
  const name = `produce${++n}`;
  await kinesis.createStream(name, shards);
  return name;
};
const decoder = new TextDecoder();

describe('produce()', () => {
  it('returns a log of exactly what Kinesis accepted, with injected duplicates and invalid records', async () => {
    const stream = await newStream();
    const { report, records, failures } = await produce({
      kpl: false,
      streamName: stream,
      client: kinesis.client(),
      scenario: 'iot',
      count: 400,
      rate: 100_000,
      seed: 11,
      duplicateRate: 0.05,
      invalidRate: 0.1,
    });
    expect(failures).toEqual([]);
    expect(report).toMatchObject({
      emitted: 400,
      accepted: 400,
      sent: 400,
      failed: 0,
      scenario: 'iot',
      aborted: false,
    });
    expect(report.events + report.duplicates + report.invalid).toBe(400);
    expect(report.invalid).toBeGreaterThan(0);
    expect(report.duplicates).toBeGreaterThan(0);
    const stored = await kinesis.readAll(stream);
    const key = (r: { shardId: string; sequenceNumber: string }) => `${r.shardId}/${r.sequenceNumber}`;
    expect(records.map(key).sort()).toEqual(stored.map(key).sort());
    const byKey = new Map(stored.map((r) => [key(r), decoder.decode(r.data)]));
    for (const r of records) expect(byKey.get(key(r))).toBe(r.data);
    // An independent fold of what is in the stream equals the fold of the log.
    const sumOf = (texts: string[]) =>
      texts
        .map((t) => {
          try {
            return validateEnvelope(JSON.parse(t));
          } catch {
            return { ok: false as const };
          }
        })
        .reduce((s, v) => (v.ok ? s + (v.event.metrics.temperature ?? 0) : s), 0);
    expect(sumOf(records.map((r) => r.data))).toBeCloseTo(
      sumOf(stored.map((r) => decoder.decode(r.data))),
      6,
    );
    expect(records.filter((r) => r.event === null)).toHaveLength(report.invalid);
    expect(records.filter((r) => r.duplicate)).toHaveLength(report.duplicates);
  });

  it('is reproducible for a seed and start time, with KPL aggregation too', async () => {
    const run = async (kpl: boolean) => {
      const stream = await newStream(2);
      const result = await produce({
        streamName: stream,
        client: kinesis.client(),
        scenario: 'web',
        count: 300,
        rate: 100_000,
        seed: 4,
        kpl,
        startTimeMs: Date.UTC(2026, 0, 1),
      });
      return { result, stored: await kinesis.readAll(stream) };
    };
    const plain = await run(false);
    const agg = await run(true);
    const ids = (rs: readonly { event: { eventId: string } | null }[]) =>
      rs.map((r) => r.event?.eventId).sort();
    expect(ids(agg.result.records)).toEqual(ids(plain.result.records));
    expect(plain.stored).toHaveLength(300);
    expect(agg.stored.length).toBeLessThan(300);
    expect(agg.result.report.sent).toBe(300);
  });

  it('stops on abort and still flushes what it accepted', async () => {
    const stream = await newStream(1);
    const controller = new AbortController();
    const { report, records } = await produce({
      kpl: false,
      streamName: stream,
      client: kinesis.client(),
      rate: 2000,
      signal: controller.signal,
      progressIntervalMs: 1,
      onProgress: (p) => {
        if (p.emitted >= 50) controller.abort();
      },
    });
    expect(report.aborted).toBe(true);
    expect(report.sent).toBe(report.accepted);
    expect(records).toHaveLength(report.sent);
    expect(await kinesis.readAll(stream)).toHaveLength(report.sent);
  });

  it('rejects bad options with the value received', async () => {
    await expect(produce({ streamName: 's', client: kinesis.client(), rate: 0 })).rejects.toThrow(
      /rate must be a number greater than 0 and at most 1000000; received 0/,
    );
  });
});

describe('shardline produce', () => {
  async function cli(args: string[]) {
    const program = new Command('shardline').exitOverride();
    register(program);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      process.exitCode = undefined;
      await program.parseAsync(['node', 'shardline', 'produce', ...args]);
    } finally {
      spy.mockRestore();
    }
    return { stdout: out.join(''), exitCode: process.exitCode };
  }

  it('finds the local cloud through <data-dir>/cloud.json and prints a JSON report (KPL by default)', async () => {
    const stream = await newStream(2);
    const dir = mkdtempSync(join(tmpdir(), 'shardline-produce-'));
    writeFileSync(
      join(dir, 'cloud.json'),
      JSON.stringify({
        endpoints: { kinesis: kinesis.endpoint, dynamodb: kinesis.endpoint },
        region: 'eu-west-1',
      }),
    );
    const saved = process.env.AWS_ENDPOINT_URL_KINESIS;
    delete process.env.AWS_ENDPOINT_URL_KINESIS;
    try {
      const { stdout, exitCode } = await cli([
        '--stream',
        stream,
        '--count',
        '60',
        '--rate',
        '10000',
        '--json',
        '--data-dir',
        dir,
      ]);
      const report = JSON.parse(stdout) as { sent: number; failed: number; kpl: boolean };
      expect(report).toMatchObject({ sent: 60, failed: 0, kpl: true });
      expect(exitCode ?? 0).toBe(0);
    } finally {
      process.env.AWS_ENDPOINT_URL_KINESIS = saved;
    }
    const users = await kinesis.readAll(stream);
    expect(users.length).toBeGreaterThan(0);
  });

  it('exits 1 and says so when records fail', async () => {
    const { stdout, exitCode } = await cli(['--stream', 'no-such-stream', '--count', '3', '--rate', '1000']);
    expect(stdout).toMatch(/failed\s+3/);
    expect(exitCode).toBe(1);
    process.exitCode = undefined;
  });

  it('lets AWS_ENDPOINT_URL_KINESIS win over a running cloud, and ignores a stale cloud.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardline-produce-'));
    const write = (endpoint: string) =>
      writeFileSync(
        join(dir, 'cloud.json'),
        JSON.stringify({ endpoints: { kinesis: endpoint, dynamodb: endpoint }, region: 'r' }),
      );
    write(kinesis.endpoint); // a running cloud: its endpoints answer
    expect(await localKinesisOptions(dir, 'http://x:2')).toBeUndefined();
    expect(await localKinesisOptions(dir, undefined)).toMatchObject({
      endpoint: kinesis.endpoint,
      region: 'r',
      credentials: { accessKeyId: 'local' },
    });
    write('http://127.0.0.1:1'); // left behind by a process that died
    expect(await localKinesisOptions(dir, undefined)).toBeUndefined();
  });
});
