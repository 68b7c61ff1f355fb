/**
 * Monthly cost model of a Shardline deployment (pure: no IO), side by side with two alternatives:
 * - **naive**: the same pipeline, but the processor writes DynamoDB once per record per rollup window
 *   (`UpdateItem ADD`), the usual first design;
 * - **flink**: Managed Service for Apache Flink instead of Lambda, writing only closed windows to DynamoDB.
 * All three share the stream, the Firehose archive and S3. Prices come from `prices.ts` (dated, us-east-1).
 */
import type { ResolvedConfig } from '../../common/config.ts';
import { WINDOW_MS } from '../../common/config.ts';
import { UsageError } from '../../common/errors.ts';
import {
  HOURS_PER_MONTH,
  PRICES,
  PRICES_AS_OF,
  PRICES_REGION,
  PRICES_SOURCE,
  SECONDS_PER_MONTH,
} from './prices.ts';

/** Workload and modelling assumptions; every field optional. */
export interface CostAssumptions {
  /** Records per second, averaged over the month, 0–1,000,000. @default 1000 */
  readonly ratePerSecond?: number;
  /** Average encoded event size in bytes, 1–1,048,576. @default 300 */
  readonly recordBytes?: number;
  /** Distinct dims groups a batch touches per rollup window (capped by the batch's records), 1–1e6. @default 50 */
  readonly groupsPerBatch?: number;
  /** Fraction of records quarantined, 0–1. @default 0.001 */
  readonly quarantineFraction?: number;
  /** Processor memory in MiB (the stack's default). @default 1024 */
  readonly memoryMiB?: number;
  /** Fixed processor time per invocation, ms. @default 30 */
  readonly baseMsPerInvocation?: number;
  /** Processor time per record (decode, validate, fold), ms. @default 0.02 */
  readonly msPerRecord?: number;
  /** Processor time per DynamoDB write, amortized over concurrent requests, ms. @default 0.5 */
  readonly msPerWrite?: number;
  /** Average aggregate item size, bytes (1 KB per write unit). @default 400 */
  readonly itemBytes?: number;
  /** Parquet size relative to the JSON input. @default 0.25 */
  readonly parquetRatio?: number;
  /** Log bytes per invocation (Powertools JSON logs and EMF metrics). @default 600 */
  readonly logBytesPerInvocation?: number;
  /** Records per second one Flink KPU sustains for these rollups. @default 5000 */
  readonly flinkRecordsPerKpu?: number;
}

/** One service's monthly cost in USD for each design. */
export interface CostLine {
  readonly service: string;
  readonly shardline: number;
  readonly naive: number;
  readonly flink: number;
  /** What drives the number. */
  readonly note: string;
}

/**
 * What a local run of the pipeline really used (`shardline cost --measure`), per 1,000 events, metered by
 * AWS's billing rules (`billing.ts`) at the SDK clients; the estimate scales it to the requested rate.
 */
export interface MeasuredUsage {
  /** How the figures were taken, in one sentence. */
  readonly method: string;
  /** ISO-8601 time of the run. */
  readonly takenAt: string;
  readonly scenario: string;
  /** Events per second produced during the run, and the average event size in bytes. */
  readonly rate: number;
  readonly recordBytes: number;
  readonly seconds: number;
  readonly events: number;
  readonly shards: number;
  readonly memoryMiB: number;
  /** Per 1,000 events. */
  readonly per1000: {
    readonly dynamoWriteUnits: number;
    readonly dynamoWriteRequests: number;
    readonly dynamoConditionalFailures: number;
    readonly dynamoReadUnits: number;
    readonly dynamoReadRequests: number;
    readonly lambdaInvocations: number;
    /** Handler wall-clock ms (local, on a full core). */
    readonly lambdaHandlerMs: number;
    /** GB-seconds billed at `memoryMiB` (see `lambdaGbSeconds`). */
    readonly lambdaGbSeconds: number;
    readonly kinesisRecords: number;
    readonly kinesisBytes: number;
    readonly kinesisPutPayloadUnits: number;
    /** Kinesis on-demand ingest: each record rounded up to 1 KB. */
    readonly kinesisOnDemandBytes: number;
    readonly firehoseBilledBytes: number;
    readonly parquetBytes: number;
  };
  /**
   * DynamoDB write units per 1,000 events by what was written (`<rollup>#<window>`, `_shards` for the
   * checkpoints): `live` written with their batch, `onClose` when a tumbling window closes.
   */
  readonly writeUnitsBy: Readonly<Record<string, { readonly live: number; readonly onClose: number }>>;
  /** Largest and mean item written, bytes; largest tumbling-window state returned, bytes. */
  readonly maxItemBytes: number;
  readonly meanItemBytes: number;
  readonly maxStateBytes: number;
  /** Distinct groups seen per rollup window (`rollup#1m`), for the Flink design's window-close writes. */
  readonly groups: Readonly<Record<string, number>>;
  /** Produce-to-visible latency of live rollups in the run, ms, when measured. */
  readonly visibleMs?: { readonly p50: number; readonly p99: number; readonly samples: number };
}

export interface CostEstimate {
  /** Where the usage figures came from: a measured run of the local pipeline, or the assumptions below. */
  readonly basis: 'measured' | 'assumptions';
  /** The measured run used, when `basis` is `measured`. */
  readonly measured?: MeasuredUsage;
  /**
   * The processing part of the bill, USD per month: Lambda + DynamoDB for Shardline, KPUs + its DynamoDB sink
   * for Flink; `ratio` = shardline / flink.
   */
  readonly processing: { readonly shardline: number; readonly flink: number; readonly ratio: number };
  readonly pricesAsOf: string;
  readonly region: string;
  readonly source: string;
  readonly assumptions: Required<CostAssumptions>;
  /** Derived quantities, per month unless named otherwise. */
  readonly derived: {
    readonly shards: number;
    readonly records: number;
    readonly invocations: number;
    readonly recordsPerInvocation: number;
    readonly shardlineWrites: number;
    readonly naiveWrites: number;
    readonly flinkWrites: number;
    readonly flinkKpus: number;
  };
  readonly lines: readonly CostLine[];
  readonly totals: { readonly shardline: number; readonly naive: number; readonly flink: number };
}

/**
 * CloudWatch alarms the stack creates for `config`: the monitoring construct's ten, the Parquet conversion
 * alarm when the archive is Parquet, and the device rule's two. A stack test keeps this in step with the
 * synthesized template.
 */
export function stackAlarmCount(config: ResolvedConfig): number {
  return 10 + (config.archive.format === 'parquet' ? 1 : 0) + 2;
}

const DEFAULTS: Required<CostAssumptions> = {
  ratePerSecond: 1000,
  recordBytes: 300,
  groupsPerBatch: 50,
  quarantineFraction: 0.001,
  memoryMiB: 1024,
  baseMsPerInvocation: 30,
  msPerRecord: 0.02,
  msPerWrite: 0.5,
  itemBytes: 400,
  parquetRatio: 0.25,
  logBytesPerInvocation: 600,
  flinkRecordsPerKpu: 5000,
};

const RANGES: Record<keyof CostAssumptions, readonly [number, number]> = {
  ratePerSecond: [0, 1_000_000],
  recordBytes: [1, 1_048_576],
  groupsPerBatch: [1, 1_000_000],
  quarantineFraction: [0, 1],
  memoryMiB: [128, 10_240],
  baseMsPerInvocation: [0, 900_000],
  msPerRecord: [0, 1000],
  msPerWrite: [0, 1000],
  itemBytes: [1, 400 * 1024],
  parquetRatio: [0.01, 2],
  logBytesPerInvocation: [0, 1e7],
  flinkRecordsPerKpu: [1, 1e7],
};

/** Applies defaults and checks ranges, with a message showing the value received. */
export function resolveCostAssumptions(input: CostAssumptions = {}): Required<CostAssumptions> {
  const out = { ...DEFAULTS };
  for (const key of Object.keys(RANGES) as (keyof CostAssumptions)[]) {
    const value = input[key];
    if (value === undefined) continue;
    const [min, max] = RANGES[key];
    if (!Number.isFinite(value) || value < min || value > max) {
      throw new UsageError(`${key} must be between ${min} and ${max}; received ${value}`);
    }
    out[key] = value;
  }
  return out;
}

const GB = 1e9;
const KB = 1024;
const perMillion = (n: number, price: number) => (n / 1e6) * price;
const cents = (n: number) => Math.round(n * 100) / 100;

/**
 * Estimates the monthly cost of `config` under the given workload.
 *
 * @example
 * ```ts
 * const e = estimateMonthlyCost(resolveConfig({}), { ratePerSecond: 500 });
 * e.totals.shardline; // USD per month
 * ```
 */
export function estimateMonthlyCost(
  config: ResolvedConfig,
  input: CostAssumptions = {},
  measured?: MeasuredUsage,
): CostEstimate {
  const a = resolveCostAssumptions(input);
  if (measured !== undefined) return estimateFromMeasured(config, a, measured);
  const rate = a.ratePerSecond;
  const records = rate * SECONDS_PER_MONTH;
  const bytes = records * a.recordBytes;
  const onDemand = config.stream.mode === 'ON_DEMAND';

  // --- Kinesis (same for all three designs; two consumers: processor and Firehose) ---
  const shards = onDemand
    ? Math.max(4, Math.ceil(rate / 1000), Math.ceil((rate * a.recordBytes) / 1e6))
    : config.stream.shardCount;
  let kinesis: number;
  let kinesisNote: string;
  if (onDemand) {
    const inGB = (records * Math.ceil(a.recordBytes / KB) * KB) / GB;
    kinesis =
      HOURS_PER_MONTH * PRICES.kinesis.onDemandStreamHour +
      inGB * PRICES.kinesis.onDemandIngestPerGB +
      2 * inGB * PRICES.kinesis.onDemandRetrievalPerGB;
    kinesisNote = `on-demand: stream-hours, ${inGB.toFixed(1)} GB in, 2 consumers out`;
  } else {
    const putUnits = records * Math.ceil(a.recordBytes / (25 * KB));
    const extended = config.stream.retentionHours > 24 ? PRICES.kinesis.extendedRetentionShardHour : 0;
    kinesis =
      shards * HOURS_PER_MONTH * (PRICES.kinesis.shardHour + extended) +
      perMillion(putUnits, PRICES.kinesis.putPayloadUnitsPerMillion);
    kinesisNote = `${shards} shards${extended ? ' + extended retention' : ''}, PUT payload units`;
  }

  // --- Lambda invocations: per shard, a batch is full or the batching window (at least the 1 s poll) ends ---
  const es = config.eventSource;
  const perShard = rate / shards;
  const invPerShardPerSec =
    perShard === 0
      ? 0
      : Math.max(perShard / es.batchSize, 1 / Math.max(es.maximumBatchingWindowInSeconds, 1));
  const invocations = shards * invPerShardPerSec * SECONDS_PER_MONTH;
  const recordsPerInvocation = invocations === 0 ? 0 : records / invocations;

  // --- DynamoDB writes ---
  const rollupWindows = config.rollups.flatMap((r) => r.windows);
  const writesPerInvocation =
    rollupWindows.reduce((n) => n + Math.min(recordsPerInvocation, a.groupsPerBatch), 0) +
    (invocations > 0 ? 1 : 0);
  const wruPerWrite = Math.ceil(a.itemBytes / KB);
  const shardlineWrites = invocations * writesPerInvocation;
  const naiveWrites = records * rollupWindows.length;
  const flinkWrites = rollupWindows.reduce(
    (n, w) => n + (rate > 0 ? a.groupsPerBatch * ((SECONDS_PER_MONTH * 1000) / WINDOW_MS[w]) : 0),
    0,
  );
  const dynamo = (writes: number, reads: number) =>
    perMillion(writes * wruPerWrite, PRICES.dynamodb.writeRequestUnitsPerMillion) +
    perMillion(reads, PRICES.dynamodb.readRequestUnitsPerMillion);

  // --- Lambda cost ---
  const lambdaCost = (writes: number) => {
    const ms =
      invocations * (a.baseMsPerInvocation + a.msPerRecord * recordsPerInvocation) + writes * a.msPerWrite;
    return (
      (ms / 1000) * (a.memoryMiB / 1024) * PRICES.lambda.arm64GBSecond +
      perMillion(invocations, PRICES.lambda.requestsPerMillion)
    );
  };

  // --- Firehose and S3 (archive + quarantine) ---
  const fiveKB = 5 * KB;
  const billedGB = (n: number, size: number) => (n * Math.ceil(size / fiveKB) * fiveKB) / GB;
  const parquet = config.archive.format === 'parquet';
  const archiveGB = billedGB(records, a.recordBytes);
  const quarantined = records * a.quarantineFraction;
  const quarantineGB = billedGB(quarantined, a.recordBytes * 1.4 + 400);
  const firehose =
    (archiveGB + quarantineGB) * PRICES.firehose.ingestPerGB +
    (parquet ? archiveGB * PRICES.firehose.formatConversionPerGB : 0);
  const storedRatio = parquet ? a.parquetRatio : config.archive.format === 'json.gz' ? 0.15 : 1;
  const storedGB = (bytes * storedRatio + quarantined * (a.recordBytes * 1.4 + 400)) / GB;
  const objects = (interval: number, sizeMiB: number, gb: number) =>
    rate === 0 ? 0 : Math.max(SECONDS_PER_MONTH / Math.max(interval, 60), (gb * GB) / (sizeMiB * 1024 * KB));
  const puts =
    objects(config.archive.bufferIntervalSeconds, config.archive.bufferSizeMiB, bytes / GB) +
    (quarantined > 0
      ? objects(config.quarantine.bufferIntervalSeconds, config.quarantine.bufferSizeMiB, quarantineGB)
      : 0);
  const s3 = storedGB * PRICES.s3.standardGBMonth + (puts / 1000) * PRICES.s3.putPer1000;

  // --- CloudWatch ---
  const alarms = stackAlarmCount(config);
  const cw = PRICES.cloudwatch;
  const cloudwatchFor = (lambdaLogs: boolean) =>
    alarms * cw.alarmMonth +
    cw.dashboardMonth +
    (lambdaLogs
      ? (invocations * a.logBytesPerInvocation * cw.logsIngestPerGB) / GB + 4 * cw.customMetricMonth
      : 0);

  // --- Flink ---
  const flinkKpus = rate === 0 ? 1 : Math.max(1, Math.ceil(rate / a.flinkRecordsPerKpu));
  const flink =
    (flinkKpus + PRICES.flink.orchestrationKpus) * HOURS_PER_MONTH * PRICES.flink.kpuHour +
    flinkKpus * PRICES.flink.storageGBPerKpu * PRICES.flink.storageGBMonth;

  const lines: CostLine[] = [
    {
      service: 'Kinesis Data Streams',
      shardline: kinesis,
      naive: kinesis,
      flink: kinesis,
      note: kinesisNote,
    },
    {
      service: 'Lambda (arm64)',
      shardline: lambdaCost(shardlineWrites),
      naive: lambdaCost(naiveWrites),
      flink: 0,
      note: `${Math.round(invocations).toLocaleString('en-US')} invocations of ~${Math.round(recordsPerInvocation)} records, ${a.memoryMiB} MiB`,
    },
    {
      service: 'Managed Service for Apache Flink',
      shardline: 0,
      naive: 0,
      flink,
      note: `${flinkKpus} KPU + ${PRICES.flink.orchestrationKpus} orchestration KPU, running storage`,
    },
    {
      service: `DynamoDB (${config.table.capacity.mode === 'onDemand' ? 'on-demand' : 'provisioned'})`,
      shardline: dynamoCost(config.table.capacity, shardlineWrites * wruPerWrite, shardlineWrites).usd,
      naive: dynamo(naiveWrites, 0),
      flink: dynamo(flinkWrites, 0),
      note: 'writes: one per group per rollup window per batch (+ watermark reads) / per record / per closed window',
    },
    {
      service: 'Data Firehose',
      shardline: firehose,
      naive: firehose,
      flink: firehose,
      note: `archive ${archiveGB.toFixed(1)} GB billed (5 KB rounding)${parquet ? ' + Parquet conversion' : ''}, quarantine`,
    },
    {
      service: 'S3',
      shardline: s3,
      naive: s3,
      flink: s3,
      note: `${storedGB.toFixed(1)} GB added per month (Standard), ${Math.round(puts).toLocaleString('en-US')} PUTs`,
    },
    {
      service: 'CloudWatch',
      shardline: cloudwatchFor(true),
      naive: cloudwatchFor(true),
      flink: cloudwatchFor(false),
      note: `${alarms} alarms, 1 dashboard, processor logs and metrics`,
    },
  ].map((l) => ({ ...l, shardline: cents(l.shardline), naive: cents(l.naive), flink: cents(l.flink) }));

  const total = (k: 'shardline' | 'naive' | 'flink') => cents(lines.reduce((n, l) => n + l[k], 0));
  return {
    basis: 'assumptions',
    processing: processingOf(lines),
    pricesAsOf: PRICES_AS_OF,
    region: PRICES_REGION,
    source: PRICES_SOURCE,
    assumptions: a,
    derived: {
      shards,
      records,
      invocations,
      recordsPerInvocation,
      shardlineWrites,
      naiveWrites,
      flinkWrites,
      flinkKpus,
    },
    lines,
    totals: { shardline: total('shardline'), naive: total('naive'), flink: total('flink') },
  };
}

/** Lambda + DynamoDB (+ Flink's KPUs) of the lines: the processing part of each design's bill. */
function processingOf(lines: readonly CostLine[]): CostEstimate['processing'] {
  const sum = (k: 'shardline' | 'flink') =>
    cents(
      lines
        .filter((l) => /^(Lambda|DynamoDB|Managed Service for Apache Flink)/.test(l.service))
        .reduce((n, l) => n + l[k], 0),
    );
  const shardline = sum('shardline');
  const flink = sum('flink');
  return { shardline, flink, ratio: flink === 0 ? 0 : Math.round((shardline / flink) * 1000) / 1000 };
}

/** DynamoDB cost of `writeUnits` and `readUnits` per month under the table's capacity mode. */
export function dynamoCost(
  capacity: ResolvedConfig['table']['capacity'],
  writeUnits: number,
  readUnits: number,
): { usd: number; note: string } {
  if (capacity.mode === 'onDemand') {
    return {
      usd:
        perMillion(writeUnits, PRICES.dynamodb.writeRequestUnitsPerMillion) +
        perMillion(readUnits, PRICES.dynamodb.readRequestUnitsPerMillion),
      note: `on-demand: ${fmtM(writeUnits)} write units, ${fmtM(readUnits)} read units`,
    };
  }
  // Provisioned with auto scaling: capacity follows the average use at the target utilization, within bounds.
  const target = capacity.targetUtilization / 100;
  const clamp = (v: number, b: { min: number; max: number }) => Math.min(b.max, Math.max(b.min, v));
  const wcu = clamp(Math.ceil(writeUnits / SECONDS_PER_MONTH / target), capacity.writeCapacity);
  const rcu = clamp(Math.ceil(readUnits / SECONDS_PER_MONTH / target), capacity.readCapacity);
  const over =
    writeUnits / SECONDS_PER_MONTH > capacity.writeCapacity.max ||
    readUnits / SECONDS_PER_MONTH > capacity.readCapacity.max;
  return {
    usd:
      HOURS_PER_MONTH * (wcu * PRICES.dynamodb.provisionedWcuHour + rcu * PRICES.dynamodb.provisionedRcuHour),
    note: `provisioned: ${wcu} WCU, ${rcu} RCU (auto scaled to ${capacity.targetUtilization}%)${over ? '; ABOVE maxCapacity: requests would be throttled' : ''}`,
  };
}

const fmtM = (n: number) => `${(n / 1e6).toFixed(1)} M`;

/** The estimate from a measured run, scaled per event to the requested rate. */
function estimateFromMeasured(
  config: ResolvedConfig,
  a: Required<CostAssumptions>,
  m: MeasuredUsage,
): CostEstimate {
  const rate = a.ratePerSecond;
  const records = rate * SECONDS_PER_MONTH;
  const k = records / 1000;
  const p = m.per1000;
  const shards = config.stream.mode === 'ON_DEMAND' ? m.shards : config.stream.shardCount;

  // Kinesis: measured Kinesis records (KPL aggregates count once) and payload units.
  let kinesis: number;
  let kinesisNote: string;
  if (config.stream.mode === 'ON_DEMAND') {
    const inGB = (p.kinesisOnDemandBytes * k) / GB;
    kinesis =
      HOURS_PER_MONTH * PRICES.kinesis.onDemandStreamHour +
      inGB * PRICES.kinesis.onDemandIngestPerGB +
      2 * inGB * PRICES.kinesis.onDemandRetrievalPerGB;
    kinesisNote = `on-demand: ${inGB.toFixed(1)} GB in (1 KB rounding per Kinesis record), 2 consumers out`;
  } else {
    const extended = config.stream.retentionHours > 24 ? PRICES.kinesis.extendedRetentionShardHour : 0;
    const units = p.kinesisPutPayloadUnits * k;
    kinesis =
      shards * HOURS_PER_MONTH * (PRICES.kinesis.shardHour + extended) +
      perMillion(units, PRICES.kinesis.putPayloadUnitsPerMillion);
    // Without KPL aggregation every event is a record: one payload unit per started 25 KB each.
    const plainUnits = records * Math.ceil(m.recordBytes / (25 * KB));
    const plain =
      shards * HOURS_PER_MONTH * (PRICES.kinesis.shardHour + extended) +
      perMillion(plainUnits, PRICES.kinesis.putPayloadUnitsPerMillion);
    kinesisNote = `${shards} shard(s)${extended ? ' + extended retention' : ''}, ${fmtM(units)} PUT payload units (${(p.kinesisRecords / 1000).toFixed(3)} Kinesis records per event${p.kinesisRecords < 1000 ? `: KPL aggregation; without it ${fmtM(plainUnits)} units, $${plain.toFixed(2)}, and at least ${Math.ceil(rate / 1000)} shard(s) for the 1,000 records/s limit` : ''})`;
  }

  // Lambda: measured invocations and GB-seconds per event.
  const invocations = p.lambdaInvocations * k;
  const lambda =
    p.lambdaGbSeconds * k * PRICES.lambda.arm64GBSecond +
    perMillion(invocations, PRICES.lambda.requestsPerMillion);

  // DynamoDB: measured units; naive = one 1-unit write per record per rollup window; Flink = one write per
  // group per closed window (groups as measured), of the measured mean item size.
  const dyn = dynamoCost(config.table.capacity, p.dynamoWriteUnits * k, p.dynamoReadUnits * k);
  const rollupWindows = config.rollups.flatMap((r) => r.windows.map((w) => ({ r: r.name, w })));
  const naiveWrites = records * rollupWindows.length;
  const unitsPerItem = Math.max(1, Math.ceil(m.meanItemBytes / KB));
  const flinkWrites =
    rate === 0
      ? 0
      : rollupWindows.reduce(
          (n, { r, w }) => n + (m.groups[`${r}#${w}`] ?? 0) * ((SECONDS_PER_MONTH * 1000) / WINDOW_MS[w]),
          0,
        );
  const onDemand = (w: number) => perMillion(w, PRICES.dynamodb.writeRequestUnitsPerMillion);

  // Firehose and S3 from measured bytes.
  const parquet = config.archive.format === 'parquet';
  const archiveGB = (p.firehoseBilledBytes * k) / GB;
  const firehosePerGB = PRICES.firehose.ingestPerGB + (parquet ? PRICES.firehose.formatConversionPerGB : 0);
  const firehose = archiveGB * firehosePerGB;
  // Without KPL aggregation every event is rounded up to 5 KB on its own.
  const plainArchiveGB = (records * Math.ceil(m.recordBytes / (5 * KB)) * 5 * KB) / GB;
  const storedGB = (p.parquetBytes * k) / GB;
  const objects =
    rate === 0
      ? 0
      : Math.max(
          SECONDS_PER_MONTH / Math.max(config.archive.bufferIntervalSeconds, 60),
          (p.kinesisBytes * k) / (config.archive.bufferSizeMiB * 1024 * KB),
        );
  const s3 = storedGB * PRICES.s3.standardGBMonth + (objects / 1000) * PRICES.s3.putPer1000;

  const alarms = stackAlarmCount(config);
  const cw = PRICES.cloudwatch;
  const cloudwatchFor = (lambdaLogs: boolean) =>
    alarms * cw.alarmMonth +
    cw.dashboardMonth +
    (lambdaLogs
      ? (invocations * a.logBytesPerInvocation * cw.logsIngestPerGB) / GB + 4 * cw.customMetricMonth
      : 0);

  const flinkKpus = rate === 0 ? 1 : Math.max(1, Math.ceil(rate / a.flinkRecordsPerKpu));
  const flink =
    (flinkKpus + PRICES.flink.orchestrationKpus) * HOURS_PER_MONTH * PRICES.flink.kpuHour +
    flinkKpus * PRICES.flink.storageGBPerKpu * PRICES.flink.storageGBMonth;
  const naiveLambda =
    lambda + ((naiveWrites * a.msPerWrite) / 1000) * (m.memoryMiB / 1024) * PRICES.lambda.arm64GBSecond;

  const lines: CostLine[] = [
    {
      service: 'Kinesis Data Streams',
      shardline: kinesis,
      naive: kinesis,
      flink: kinesis,
      note: kinesisNote,
    },
    {
      service: 'Lambda (arm64)',
      shardline: lambda,
      naive: naiveLambda,
      flink: 0,
      note: `${fmtM(invocations)} invocations, ${(p.lambdaHandlerMs / 1000).toFixed(3)} handler ms per event measured, ${m.memoryMiB} MiB`,
    },
    {
      service: 'Managed Service for Apache Flink',
      shardline: 0,
      naive: 0,
      flink,
      note: `${flinkKpus} KPU + ${PRICES.flink.orchestrationKpus} orchestration KPU, running storage`,
    },
    {
      service: `DynamoDB (${config.table.capacity.mode === 'onDemand' ? 'on-demand' : 'provisioned'})`,
      shardline: dyn.usd,
      naive: onDemand(naiveWrites),
      flink: onDemand(flinkWrites * unitsPerItem),
      note: `${dyn.note} measured (${p.dynamoWriteUnits.toFixed(2)} write units per 1,000 events); naive: 1 per record per rollup window; flink: 1 per group per closed window`,
    },
    {
      service: 'Data Firehose',
      shardline: firehose,
      naive: firehose,
      flink: firehose,
      note: `archive ${archiveGB.toFixed(1)} GB billed (5 KB rounding per Kinesis record)${parquet ? ' + Parquet conversion' : ''}; without KPL aggregation ${plainArchiveGB.toFixed(0)} GB, $${(plainArchiveGB * firehosePerGB).toFixed(2)}`,
    },
    {
      service: 'S3',
      shardline: s3,
      naive: s3,
      flink: s3,
      note: `${storedGB.toFixed(1)} GB of Parquet added per month (measured bytes), ${Math.round(objects).toLocaleString('en-US')} PUTs`,
    },
    {
      service: 'CloudWatch',
      shardline: cloudwatchFor(true),
      naive: cloudwatchFor(true),
      flink: cloudwatchFor(false),
      note: `${alarms} alarms, 1 dashboard, processor logs and metrics`,
    },
  ].map((l) => ({ ...l, shardline: cents(l.shardline), naive: cents(l.naive), flink: cents(l.flink) }));
  const total = (key: 'shardline' | 'naive' | 'flink') => cents(lines.reduce((n, l) => n + l[key], 0));
  return {
    basis: 'measured',
    measured: m,
    processing: processingOf(lines),
    pricesAsOf: PRICES_AS_OF,
    region: PRICES_REGION,
    source: PRICES_SOURCE,
    assumptions: a,
    derived: {
      shards,
      records,
      invocations,
      recordsPerInvocation: invocations === 0 ? 0 : records / invocations,
      shardlineWrites: p.dynamoWriteRequests * k,
      naiveWrites,
      flinkWrites,
      flinkKpus,
    },
    lines,
    totals: { shardline: total('shardline'), naive: total('naive'), flink: total('flink') },
  };
}
