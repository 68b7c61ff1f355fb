/**
 * `shardline cost --measure`: runs the local pipeline on a config for a bounded time at a rate, and meters
 * what AWS would bill for it, by AWS's rules (`infra/aws/billing.ts`), at the real SDK clients:
 * - DynamoDB write and read units of every request the processor makes (conditional failures included);
 * - Lambda invocations and handler wall-clock milliseconds (GB-seconds at the configured memory);
 * - Kinesis records, bytes and PUT payload units of what the producer (KPL-aggregating by default) put;
 *   Firehose billed bytes of those records (5 KB rounding per Kinesis record);
 * - Parquet bytes the local Firehose wrote to the archive.
 * The processor's tumbling-window writes (carried items) happen once per `tumblingWindowInSeconds` in
 * production: the run closes its windows at the end, meters that flush apart, and counts it once per
 * tumbling window per shard, with the groups a window holds measured per rollup window.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { dynamodbClient, firehoseClient, kinesisClient } from '../../common/aws.ts';
import { type ResolvedConfig, WINDOW_MS, type WindowSize } from '../../common/config.ts';
import type { EnvelopeInput } from '../../common/envelope.ts';
import { UsageError } from '../../common/errors.ts';
import { type LambdaKinesisHandler, lambdaHandler } from '../../processors/handler.ts';
import { createProcessor } from '../../processors/index.ts';
import { produce } from '../../producers/produce.ts';
import { iotScenario } from '../../producers/scenarios/iot.ts';
import type { Scenario } from '../../producers/scenarios/types.ts';
import { webScenario } from '../../producers/scenarios/web.ts';
import { lambdaGbSeconds } from '../aws/billing.ts';
import type { MeasuredUsage } from '../aws/cost.ts';
import { LocalCloud, type LocalConnection } from './cloud.ts';
import { type DynamoUsage, emptyDynamoUsage, meterDynamo, meterKinesis } from './meter.ts';

export type MeasureScenario = 'iot' | 'web' | 'mixed';

export interface MeasureOptions {
  readonly config: ResolvedConfig;
  /** Events per second produced, 1–5,000 (the local pipeline's comfortable range on 2 cores). @default 1000 */
  readonly rate?: number;
  /** Average event size in bytes, 100–32,768: events are padded with a `pad` dimension to reach it. @default 300 */
  readonly recordBytes?: number;
  /** @default 'iot' */
  readonly scenario?: MeasureScenario;
  /** Seconds of producing, 5–90. @default 40 */
  readonly seconds?: number;
  /** Producers KPL-aggregate records (the SDK's default). @default true */
  readonly kpl?: boolean;
  /** Devices of the IoT fleet. @default 1000 */
  readonly devices?: number;
  /** Called about once a second with one line of progress. */
  readonly onProgress?: (line: string) => void;
}

function check(name: string, v: number, min: number, max: number): number {
  if (!Number.isFinite(v) || v < min || v > max)
    throw new UsageError(`${name} must be between ${min} and ${max}; received ${v}`);
  return v;
}

/** Pads events with `dims.pad*` (128 characters at most each) until their JSON is about `bytes` long. */
export function paddedScenario(inner: Scenario, bytes: number): Scenario {
  return {
    name: inner.name,
    next(nowMs: number): EnvelopeInput {
      const e = inner.next(nowMs);
      let missing = bytes - Buffer.byteLength(JSON.stringify(e));
      if (missing <= 0) return e;
      const dims: Record<string, string> = { ...(e.dims ?? {}) };
      for (let i = 0; missing > 10 && Object.keys(dims).length < 16; i++) {
        const key = i === 0 ? 'pad' : `pad${i}`;
        const n = Math.min(128, missing - key.length - 6);
        if (n <= 0) break;
        dims[key] = 'x'.repeat(n);
        missing -= n + key.length + 6;
      }
      return { ...e, dims };
    },
  };
}

function scenarioOf(name: MeasureScenario, devices: number): Scenario {
  if (name === 'iot') return iotScenario({ devices, seed: 7 });
  if (name === 'web') return webScenario({ seed: 7 });
  const iot = iotScenario({ devices, seed: 7 });
  const web = webScenario({ seed: 7 });
  let i = 0;
  return { name: 'mixed', next: (now) => (i++ % 2 === 0 ? iot.next(now) : web.next(now)) };
}

function quantileOf(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))]!;
}

function filesUnder(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('.parquet')) {
        files++;
        bytes += st.size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

/** Distinct dims per window start, the largest over the run, for each `rollup#window`. */
async function groupsOf(config: ResolvedConfig, cloud: LocalCloud): Promise<Record<string, number>> {
  const client = dynamodbClient(cloud.clientOptions('dynamodb'));
  const seen = new Map<string, Map<string, Set<string>>>();
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({ TableName: config.table.name, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) {
        const rollup = item.rollup?.S;
        const window = item.window?.S;
        if (rollup === undefined || window === undefined) continue;
        const key = `${rollup}#${window}`;
        let byStart = seen.get(key);
        if (!byStart) {
          byStart = new Map();
          seen.set(key, byStart);
        }
        const ws = item.windowStart?.N ?? '';
        let dims = byStart.get(ws);
        if (!dims) {
          dims = new Set();
          byStart.set(ws, dims);
        }
        dims.add(item.dims?.S ?? '');
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  } finally {
    client.destroy();
  }
  const out: Record<string, number> = {};
  for (const [k, byStart] of seen) out[k] = Math.max(...[...byStart.values()].map((s) => s.size));
  return out;
}

const minus = (a: DynamoUsage, b: DynamoUsage): DynamoUsage => ({
  writeRequests: a.writeRequests - b.writeRequests,
  writeUnits: a.writeUnits - b.writeUnits,
  conditionalFailures: a.conditionalFailures - b.conditionalFailures,
  readRequests: a.readRequests - b.readRequests,
  readUnits: a.readUnits - b.readUnits,
  maxItemBytes: a.maxItemBytes,
  writtenBytes: a.writtenBytes - b.writtenBytes,
  writeUnitsBy: Object.fromEntries(
    Object.entries(a.writeUnitsBy).map(([k, v]) => [k, v - (b.writeUnitsBy[k] ?? 0)]),
  ),
});

/** Runs the local pipeline and returns the metered usage per 1,000 events. */
export async function measureUsage(options: MeasureOptions): Promise<MeasuredUsage> {
  const { config } = options;
  const rate = check('rate', options.rate ?? 1000, 1, 5000);
  const recordBytes = check('recordBytes', options.recordBytes ?? 300, 100, 32_768);
  const seconds = check('seconds', options.seconds ?? 40, 5, 90);
  const scenarioName = options.scenario ?? 'iot';
  const say = options.onProgress ?? (() => {});
  const dataDir = mkdtempSync(join(tmpdir(), 'shardline-measure-'));
  const dynamoUsage = emptyDynamoUsage();
  const lambda = { invocations: 0, ms: 0, maxStateBytes: 0, lags: [] as number[] };
  const clients: { destroy(): void }[] = [];
  // The processor as the local cloud runs it, on a metered DynamoDB client, timed per invocation.
  const buildHandler = (connection: LocalConnection) => {
    const ddb = dynamodbClient(connection.clientOptions('dynamodb'));
    const firehose = firehoseClient(connection.clientOptions('firehose'));
    clients.push(ddb, firehose);
    meterDynamo(ddb, dynamoUsage);
    const processor: LambdaKinesisHandler = lambdaHandler(
      createProcessor({ config, clients: { dynamodb: ddb, firehose } }),
    );
    return (event: KinesisStreamEvent, context: Context) => timed(processor, event, context);
  };
  const timed = async (processor: LambdaKinesisHandler, event: KinesisStreamEvent, context: Context) => {
    const t0 = performance.now();
    const res = await processor(event, context);
    lambda.ms += performance.now() - t0;
    lambda.invocations++;
    const state = (res as { state?: unknown } | undefined)?.state;
    if (state !== undefined)
      lambda.maxStateBytes = Math.max(lambda.maxStateBytes, Buffer.byteLength(JSON.stringify(state)));
    const done = Date.now();
    for (const r of event.Records ?? [])
      lambda.lags.push(done - r.kinesis.approximateArrivalTimestamp * 1000);
    return res;
  };

  say(`measure: starting the local cloud (${config.stream.shardCount} shard(s)) in ${dataDir}`);
  const cloud = await LocalCloud.start({
    config,
    dataDir,
    buildHandler,
    emulatorThreads: true,
    // Only what the metered run uses: no ingest endpoint, MQTT broker or local AWS APIs to start.
    ingest: false,
    mqtt: false,
    awsApis: false,
  });
  const kinesis = kinesisClient(cloud.clientOptions('kinesis'));
  const kinesisUsage = meterKinesis(kinesis);
  try {
    const started = Date.now();
    const ticker = setInterval(() => {
      const s = Math.round((Date.now() - started) / 1000);
      say(
        `measure: ${s}s/${seconds}s | ${kinesisUsage.records.toLocaleString('en-US')} Kinesis records | ${lambda.invocations} invocations | ${dynamoUsage.writeUnits.toLocaleString('en-US')} DynamoDB write units`,
      );
    }, 2000);
    let produced: Awaited<ReturnType<typeof produce>>;
    try {
      produced = await produce({
        streamName: config.stream.name,
        client: kinesis,
        scenario: paddedScenario(scenarioOf(scenarioName, options.devices ?? 1000), recordBytes),
        rate,
        durationSeconds: seconds,
        collect: false,
        kpl: options.kpl ?? true,
      });
      // Everything produced processed (live items written), windows still open.
      await cloud.esm?.drain({ timeoutMs: 120_000 });
    } finally {
      clearInterval(ticker);
    }
    const live = { ...dynamoUsage, writeUnitsBy: { ...dynamoUsage.writeUnitsBy } };
    const liveLambda = { invocations: lambda.invocations, ms: lambda.ms };
    // Close the tumbling windows: the carried items are written, as when a window ends.
    const windowed = config.eventSource.tumblingWindowInSeconds > 0;
    if (windowed) {
      say('measure: closing tumbling windows (writing carried items)');
      await closeWindows(cloud);
    }
    const flush = minus({ ...dynamoUsage, writeUnitsBy: { ...dynamoUsage.writeUnitsBy } }, live);
    const flushLambda = {
      invocations: lambda.invocations - liveLambda.invocations,
      ms: lambda.ms - liveLambda.ms,
    };
    say('measure: draining Firehose');
    await cloud.firehose?.drain({ timeoutMs: 120_000 });
    const events = produced.report.sent;
    if (events === 0) throw new UsageError('measure: nothing was produced');
    const archive = filesUnder(cloud.archiveDir);
    const groups = await groupsOf(config, cloud);

    // Flushes per 1,000 events in production: one per tumbling window per shard. A window of T seconds
    // holds, per carried rollup window of size W, about (1 + T/W) window starts of each group, where the
    // run's single flush held about (1 + run/W).
    const T = config.eventSource.tumblingWindowInSeconds;
    const runSeconds = (Date.now() - started) / 1000;
    let flushScale = 0;
    if (windowed && flush.writeRequests > 0) {
      const carriedWindows = config.rollups.flatMap((r) =>
        r.windows
          .filter((w) => r.freshness === 'onClose' || w !== finestOf(r.windows))
          .map((w) => ({ w, g: groups[`${r.name}#${w}`] ?? 0 })),
      );
      const inRun = carriedWindows.reduce((n, c) => n + c.g * (1 + (runSeconds * 1000) / WINDOW_MS[c.w]), 0);
      const inWindow = carriedWindows.reduce((n, c) => n + c.g * (1 + (T * 1000) / WINDOW_MS[c.w]), 0);
      const perWindow = inRun === 0 ? 1 : inWindow / inRun;
      const windowsPer1000 = (config.stream.shardCount * 1000) / (rate * T);
      // How many times the run's flush happens per 1,000 events.
      flushScale = perWindow * windowsPer1000;
    }
    const per = (liveValue: number, flushValue: number) =>
      (liveValue * 1000) / events + flushValue * flushScale;
    const mem = config.processing.memoryMiB;
    const written = live.writeRequests + flush.writeRequests;
    const usage: MeasuredUsage = {
      method:
        `local pipeline (kinesalite, dynalite, the local event source mapping and Firehose) on this config for ${Math.round(runSeconds)} s at ${rate} events/s of ~${recordBytes} B (${scenarioName}, ${options.kpl === false ? 'one Kinesis record per event' : 'KPL-aggregated'}), ` +
        'metered at the SDK clients by AWS billing rules (DynamoDB units per started 1 KB written / 4 KB read, conditional failures included; Kinesis PUT units per 25 KB; Firehose 5 KB per Kinesis record); ' +
        `Lambda GB-s from handler wall time at ${mem} MiB, stretched by 1769/${mem} below one vCPU` +
        (windowed
          ? `; tumbling-window writes metered at one window close and counted once per ${T} s window per shard`
          : ''),
      takenAt: new Date().toISOString(),
      scenario: scenarioName,
      rate,
      recordBytes,
      seconds: Math.round(runSeconds),
      events,
      shards: config.stream.shardCount,
      memoryMiB: mem,
      per1000: {
        dynamoWriteUnits: per(live.writeUnits, flush.writeUnits),
        dynamoWriteRequests: per(live.writeRequests, flush.writeRequests),
        dynamoConditionalFailures: per(live.conditionalFailures, flush.conditionalFailures),
        dynamoReadUnits: per(live.readUnits, flush.readUnits),
        dynamoReadRequests: per(live.readRequests, flush.readRequests),
        lambdaInvocations: per(liveLambda.invocations, flushLambda.invocations),
        lambdaHandlerMs: per(liveLambda.ms, flushLambda.ms),
        lambdaGbSeconds:
          (lambdaGbSeconds(liveLambda.ms, mem) * 1000) / events +
          lambdaGbSeconds(flushLambda.ms, mem) * flushScale,
        kinesisRecords: (kinesisUsage.records * 1000) / events,
        kinesisBytes: (kinesisUsage.bytes * 1000) / events,
        kinesisPutPayloadUnits: (kinesisUsage.putPayloadUnits * 1000) / events,
        kinesisOnDemandBytes: (kinesisUsage.onDemandBilledBytes * 1000) / events,
        firehoseBilledBytes: (kinesisUsage.firehoseBilledBytes * 1000) / events,
        parquetBytes: (archive.bytes * 1000) / events,
      },
      writeUnitsBy: Object.fromEntries(
        [...new Set([...Object.keys(live.writeUnitsBy), ...Object.keys(flush.writeUnitsBy)])]
          .sort()
          .map((k) => [
            k,
            {
              live: (live.writeUnitsBy[k] ?? 0) * (1000 / events),
              onClose: (flush.writeUnitsBy[k] ?? 0) * flushScale,
            },
          ]),
      ),
      maxItemBytes: dynamoUsage.maxItemBytes,
      meanItemBytes: written === 0 ? 0 : dynamoUsage.writtenBytes / written,
      maxStateBytes: lambda.maxStateBytes,
      groups,
      visibleMs: {
        p50: Math.round(quantileOf(lambda.lags, 0.5)),
        p99: Math.round(quantileOf(lambda.lags, 0.99)),
        samples: lambda.lags.length,
      },
    };
    return usage;
  } finally {
    kinesis.destroy();
    await cloud.stop();
    for (const c of clients) c.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function finestOf(windows: readonly WindowSize[]): WindowSize {
  return windows.reduce((a, b) => (WINDOW_MS[b] < WINDOW_MS[a] ? b : a));
}

/** Ends every shard's open tumbling window now (the local mapping's final invocations). */
async function closeWindows(cloud: LocalCloud): Promise<void> {
  await cloud.esm?.closeWindows();
}
