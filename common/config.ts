/**
 * One typed configuration for the whole pipeline, read by the CDK app, the local cloud, the processor and
 * the CLI alike. User options are all optional; {@link resolveConfig} applies every default once and
 * validates eagerly, with messages that show the value received and the rule it broke.
 */
import { z } from 'zod';
import { ConfigError, describeValue, formatPath } from './errors.ts';

/** Tumbling window sizes a rollup may use. */
export const WINDOWS = ['1m', '5m', '15m', '1h', '1d'] as const;
export type WindowSize = (typeof WINDOWS)[number];
/** Window size in milliseconds. */
export const WINDOW_MS: Readonly<Record<WindowSize, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

/** When a rollup's items are written: every batch (`live`) or when the Lambda tumbling window closes (`onClose`). */
export const FRESHNESS = ['live', 'onClose'] as const;
export type Freshness = (typeof FRESHNESS)[number];

/** The exact statistics a rollup keeps per metric. All are mergeable (commutative monoids). */
export const STATS = ['count', 'sum', 'min', 'max'] as const;
export type BasicStat = (typeof STATS)[number];
/** A quantile of each metric, e.g. `p50`, `p99`, `p99.9` (DDSketch, 1% relative accuracy). */
export type QuantileStat = `p${string}`;
/** Distinct values of a field among the rollup's events, e.g. `distinct:source` (HyperLogLog, 1.63% error). */
export type DistinctStat = `distinct:${string}`;
export type Stat = BasicStat | QuantileStat | DistinctStat;

const STAT_RE =
  /^(count|sum|min|max|p(100|\d{1,2}(\.\d{1,3})?)|distinct:(source|type|eventId|dims\.[A-Za-z_][A-Za-z0-9_]*))$/;

/** The quantile stats a rollup asks for with their quantile in [0, 1], ascending: `[['p99', 0.99], ...]`. */
export function quantileStats(stats: readonly Stat[]): [QuantileStat, number][] {
  const out: [QuantileStat, number][] = [];
  for (const s of stats) {
    if (!/^p\d/.test(s)) continue;
    const label = s as QuantileStat;
    if (out.some(([l]) => l === label)) continue;
    out.push([label, Number((Number(s.slice(1)) / 100).toPrecision(12))]);
  }
  return out.sort((x, y) => x[1] - y[1]);
}

/** Fields whose distinct values a rollup's stats count (`source`, `type`, `eventId`, `dims.<name>`). */
export function distinctFieldsOf(stats: readonly Stat[]): string[] {
  return stats
    .filter((s): s is DistinctStat => s.startsWith('distinct:'))
    .map((s) => s.slice('distinct:'.length));
}

/**
 * At most this many metrics in a rollup with quantile stats (one quantile sketch each). With the envelope's
 * value limit (|x| <= 1e15) a sketch stores at most ~60 KB (base64 of its protobuf), and an HLL at most
 * ~5.5 KB: 5 x 60 KB + 8 x 5.5 KB + the exact part stays under DynamoDB's 400 KB item limit by construction.
 */
export const MAX_QUANTILE_METRICS = 5;
/** At most this many `distinct:` stats in a rollup (one HyperLogLog each); see {@link MAX_QUANTILE_METRICS}. */
export const MAX_DISTINCT_FIELDS = 8;

const intIn = (min: number, max: number, what = 'an integer') =>
  z
    .number({
      error: (iss) => `must be ${what} between ${min} and ${max}; received ${describeValue(iss.input)}`,
    })
    .int({
      error: (iss) => `must be ${what} between ${min} and ${max}; received ${describeValue(iss.input)}`,
    })
    .min(min, { error: (iss) => `must be between ${min} and ${max}; received ${describeValue(iss.input)}` })
    .max(max, { error: (iss) => `must be between ${min} and ${max}; received ${describeValue(iss.input)}` });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: (iss) => `must be one of ${values.join(', ')}; received ${describeValue(iss.input)}`,
  });

const resourceName = (pattern: RegExp, rule: string) =>
  z.string().regex(pattern, { error: (iss) => `${rule}; received ${describeValue(iss.input)}` });

const streamName = resourceName(/^[a-zA-Z0-9_.-]{1,128}$/, 'must be 1-128 characters of [a-zA-Z0-9_.-]');
const tableName = resourceName(/^[a-zA-Z0-9_.-]{3,255}$/, 'must be 3-255 characters of [a-zA-Z0-9_.-]');
const deliveryName = resourceName(/^[a-zA-Z0-9_.-]{1,64}$/, 'must be 1-64 characters of [a-zA-Z0-9_.-]');
const bucketName = resourceName(
  /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  'must be an S3 bucket name: 3-63 characters of [a-z0-9.-]',
);
const prefix = resourceName(/^([^/].*\/)?$/, 'must be empty or end with "/" and not start with "/"');

const GROUP_BY_RE = /^(source|type|dims\.[A-Za-z_][A-Za-z0-9_]*)$/;

const RollupSchema = z
  .strictObject({
    /** Rollup name: 1–48 characters, `[a-z][a-z0-9_]*`. Part of every item key, so never rename a live one. */
    name: resourceName(/^[a-z][a-z0-9_]{0,47}$/, 'must be 1-48 characters matching [a-z][a-z0-9_]*'),
    /** Event `type` this rollup folds, or `*` for all. @default '*' */
    eventType: z.string().min(1).max(64).default('*'),
    /** Metric names to aggregate. Empty means a count-only rollup. @default [] */
    metrics: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
      .max(32)
      .default([]),
    /** Group-by keys: `source`, `type` or `dims.<name>`. Empty means one series. @default [] */
    by: z
      .array(
        z.string().regex(GROUP_BY_RE, {
          error: (iss) => `must be source, type or dims.<name>; received ${describeValue(iss.input)}`,
        }),
      )
      .max(4)
      .default([]),
    /** Event-time tumbling windows. @default ['1m', '1h'] */
    windows: z.array(oneOf(WINDOWS)).min(1).default(['1m', '1h']),
    /**
     * When the rollup's items reach DynamoDB (see {@link Freshness}).
     * - `live`: the finest window is written every batch (what dashboards read); coarser windows are carried in
     *   the Lambda tumbling-window state and written when it closes.
     * - `onClose`: every window is carried in the tumbling-window state and each group is written once per
     *   state window (`eventSource.tumblingWindowInSeconds`); right for high-cardinality rollups (per device).
     * With `tumblingWindowInSeconds` 0 every window of every rollup is written every batch.
     * @default 'live'
     */
    freshness: oneOf(FRESHNESS).default('live'),
    /** Statistics kept per metric. @default ['count', 'sum', 'min', 'max'] with metrics, else ['count'] */
    stats: z
      .array(
        z.string().regex(STAT_RE, {
          error: (iss) =>
            `must be count, sum, min, max, a quantile like p50 or p99.9, or distinct:<source|type|eventId|dims.name>; received ${describeValue(iss.input)}`,
        }),
      )
      .min(1)
      .optional(),
  })
  .transform((r) => ({
    ...r,
    stats: (r.stats ?? (r.metrics.length > 0 ? [...STATS] : ['count'])) as Stat[],
  }));

const ConfigSchema = z.strictObject({
  /** AWS region (locally only echoed in ARNs). @default 'us-east-1' */
  region: z.string().min(1).default('us-east-1'),
  stream: z
    .strictObject({
      /** Kinesis stream name. @default 'shardline-events' */
      name: streamName.default('shardline-events'),
      /** Provisioned shard count, 1–500. @default 4 */
      shardCount: intIn(1, 500).default(4),
      /** Capacity mode. ON_DEMAND ignores `shardCount` on AWS. @default 'PROVISIONED' */
      mode: oneOf(['PROVISIONED', 'ON_DEMAND']).default('PROVISIONED'),
      /** Retention in hours, 24–8760. @default 24 */
      retentionHours: intIn(24, 8760).default(24),
    })
    .prefault({}),
  eventSource: z
    .strictObject({
      /** Records per invocation, 1–10,000 (AWS default 100). @default 500 */
      batchSize: intIn(1, 10_000).default(500),
      /** Seconds to gather records before invoking, 0–300 (AWS default 0). @default 1 */
      maximumBatchingWindowInSeconds: intIn(0, 300).default(1),
      /** Where a new mapping starts reading. @default 'TRIM_HORIZON' */
      startingPosition: oneOf(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP']).default('TRIM_HORIZON'),
      /** Unix seconds; required with AT_TIMESTAMP. */
      startingPositionTimestamp: z.number().nonnegative().optional(),
      /** Split a failing batch in two and retry each half (splits do not count as retries). @default true */
      bisectBatchOnFunctionError: z.boolean().default(true),
      /** Retries after a function error, -1 (infinite) to 10,000. @default 10 */
      maximumRetryAttempts: intIn(-1, 10_000).default(10),
      /** Discard records older than this, -1 (never) or 60–604,800 seconds. @default -1 */
      maximumRecordAgeInSeconds: z
        .number()
        .int()
        .refine((n) => n === -1 || (n >= 60 && n <= 604_800), {
          error: (iss) => `must be -1 or between 60 and 604800; received ${describeValue(iss.input)}`,
        })
        .default(-1),
      /** Let the handler report the first failed record instead of failing the whole batch. @default true */
      reportBatchItemFailures: z.boolean().default(true),
      /**
       * Concurrent batches per shard. Exact rollups need per-shard order (the watermark fence is per shard),
       * so only 1 is accepted; see the README's "Exactly once" section. @default 1
       */
      parallelizationFactor: z
        .literal(1, {
          error: (iss) =>
            `must be 1: exact rollups fence writes by a per-shard watermark, which needs in-order batches per shard; received ${describeValue(iss.input)}`,
        })
        .default(1),
      /** Function timeout in seconds, 1–900. @default 60 */
      functionTimeoutSeconds: intIn(1, 900).default(60),
      /**
       * Lambda tumbling window (arrival time) in seconds, 0–900: state carried between a shard's invocations
       * (at most 1 MB) holds the `onClose` rollups and the coarser windows of `live` ones, written when the
       * window closes. 0 turns it off (every item written every batch; the repository's
       * `shardline.config.ts` sets 900). @default 0
       */
      tumblingWindowInSeconds: intIn(0, 900).default(0),
    })
    .prefault({}),
  table: z
    .strictObject({
      /** DynamoDB table of aggregates. @default 'shardline-aggregates' */
      name: tableName.default('shardline-aggregates'),
      /**
       * Capacity mode: `onDemand` (pay per request) or `provisioned` (capacity units per second, auto scaled
       * between `minCapacity` and `maxCapacity` to `targetUtilization`). @default { mode: 'onDemand' }
       */
      capacity: z
        .discriminatedUnion('mode', [
          z.strictObject({ mode: z.literal('onDemand') }),
          z.strictObject({
            mode: z.literal('provisioned'),
            /** Write capacity units, 1–40,000. @default { min: 5, max: 100 } */
            writeCapacity: z
              .strictObject({ min: intIn(1, 40_000).default(5), max: intIn(1, 40_000).default(100) })
              .prefault({}),
            /** Read capacity units, 1–40,000. @default { min: 5, max: 100 } */
            readCapacity: z
              .strictObject({ min: intIn(1, 40_000).default(5), max: intIn(1, 40_000).default(100) })
              .prefault({}),
            /** Auto scaling target utilization in percent, 20–90. @default 70 */
            targetUtilization: intIn(20, 90).default(70),
          }),
        ])
        .default({ mode: 'onDemand' }),
      /** Days an aggregate item lives, per window size (DynamoDB TTL). */
      ttlDays: z
        .strictObject({
          '1m': intIn(1, 3650).default(7),
          '5m': intIn(1, 3650).default(30),
          '15m': intIn(1, 3650).default(30),
          '1h': intIn(1, 3650).default(90),
          '1d': intIn(1, 3650).default(730),
        })
        .prefault({}),
    })
    .prefault({}),
  archive: z
    .strictObject({
      /** Archive bucket (locally `<data-dir>/s3/<bucket>`). @default 'shardline-archive' */
      bucket: bucketName.default('shardline-archive'),
      /** Firehose delivery stream reading the Kinesis stream. @default 'shardline-archive' */
      deliveryStreamName: deliveryName.default('shardline-archive'),
      /** Table (Glue and local view) over the raw archive. @default 'events' */
      tableName: z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/)
        .default('events'),
      /** Prefix of the raw archive: hour partitions by arrival time. */
      rawPrefix: prefix.default('raw/dt=!{timestamp:yyyy-MM-dd-HH}/'),
      /** Prefix of records Firehose could not convert or deliver. */
      errorPrefix: prefix.default('errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd-HH}/'),
      /** Buffer size hint, 1–128 MiB; Parquet conversion needs at least 64. @default 64 */
      bufferSizeMiB: intIn(1, 128).default(64),
      /** Buffer interval hint, 0–900 seconds. @default 60 */
      bufferIntervalSeconds: intIn(0, 900).default(60),
      /** Object format: Parquet (record format conversion), or JSON lines optionally gzipped. @default 'parquet' */
      format: oneOf(['parquet', 'json', 'json.gz']).default('parquet'),
    })
    .prefault({}),
  quarantine: z
    .strictObject({
      /** Direct PUT delivery stream for invalid records. @default 'shardline-quarantine' */
      deliveryStreamName: deliveryName.default('shardline-quarantine'),
      /** Table over the quarantine archive. @default 'quarantine' */
      tableName: z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/)
        .default('quarantine'),
      /** Prefix of quarantined records in the archive bucket. */
      prefix: prefix.default('quarantine/dt=!{timestamp:yyyy-MM-dd-HH}/'),
      /** Buffer size hint, 1–128 MiB. @default 5 */
      bufferSizeMiB: intIn(1, 128).default(5),
      /** Buffer interval hint, 0–900 seconds. @default 60 */
      bufferIntervalSeconds: intIn(0, 900).default(60),
    })
    .prefault({}),
  processing: z
    .strictObject({
      /** Events whose time is this far behind their arrival are late (quarantined as `late`), 0–604,800 s. @default 3600 */
      allowedLatenessSeconds: intIn(0, 604_800).default(3600),
      /** Events whose time is this far ahead of their arrival are quarantined as `future_timestamp`, 0–86,400 s. @default 300 */
      maxFutureSkewSeconds: intIn(0, 86_400).default(300),
      /** Processor function memory in MiB, 128–10,240 (CPU is proportional: 1,769 MiB is one vCPU). @default 512 */
      memoryMiB: intIn(128, 10_240).default(512),
    })
    .prefault({}),
  athena: z
    .strictObject({
      /** Glue database. @default 'shardline' */
      database: z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/)
        .default('shardline'),
      /** Athena workgroup. @default 'shardline' */
      workgroup: z.string().min(1).max(128).default('shardline'),
      /** Cancel queries scanning more than this, at least 10,000,000 bytes. @default 10_000_000_000 */
      bytesScannedCutoffPerQuery: z.number().int().min(10_000_000).default(10_000_000_000),
    })
    .prefault({}),
  iot: z
    .strictObject({
      /**
       * MQTT topic devices publish the envelope to (JSON, QoS 0 or 1). One level is exactly `{source}`: the
       * topic rule takes the event's `source` (and the Kinesis partition key) from that level, never from the
       * payload, so a device cannot write as another. The other levels are literal (no `+`, `#` or `$`), at
       * most 8 levels (IoT Core allows 7 slashes). @default 'devices/{source}/events'
       */
      topic: z
        .string()
        .regex(/^(?!\$)[^+#]{1,256}$/, {
          error: (iss) =>
            `must be 1-256 characters without +, # or a leading $; received ${describeValue(iss.input)}`,
        })
        .refine((t) => !t.includes('\0'), { error: 'must not contain NUL' })
        .refine((t) => t.split('/').filter((l) => l === '{source}').length === 1, {
          error: (iss) => `must have exactly one level "{source}"; received ${describeValue(iss.input)}`,
        })
        .refine((t) => t.split('/').length <= 8 && t.split('/').every((l) => l.length > 0), {
          error: (iss) =>
            `must have 1-8 non-empty levels (IoT Core allows 7 slashes); received ${describeValue(iss.input)}`,
        })
        .default('devices/{source}/events'),
      /** Name of the IoT topic rule, 1–128 characters of `[a-zA-Z0-9_]`. @default 'shardline_devices' */
      ruleName: resourceName(/^[a-zA-Z0-9_]{1,128}$/, 'must be 1-128 characters of [a-zA-Z0-9_]').default(
        'shardline_devices',
      ),
    })
    .prefault({}),
  ingest: z
    .strictObject({
      /**
       * Event types web clients may send through the ingest endpoint (the public one: an anonymous page
       * can call it), 1–100 of them, each `[A-Za-z0-9_.:-]{1,64}`. Anything else is rejected with 400, so a
       * page cannot write `telemetry` into device rollups. @default ['pageview', 'click', 'purchase']
       */
      webEventTypes: z
        .array(resourceName(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_.:-]'))
        .min(1)
        .max(100)
        .default(['pageview', 'click', 'purchase']),
      /**
       * Origins browsers may call the ingest endpoint from (CORS), e.g. `https://shop.example.com`;
       * the answer names the caller's origin only when it is listed. `['*']` lets any page call it.
       * @default ['*']
       */
      allowedOrigins: z
        .array(
          resourceName(
            /^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/,
            'must be * or an origin like https://shop.example.com (scheme, host, optional port; no path)',
          ),
        )
        .min(1)
        .default(['*']),
      /** Records in one request, 1–500 (a browser batch; PutRecords takes 500). @default 100 */
      maxRecordsPerRequest: intIn(1, 500).default(100),
      /**
       * Requests a day the API key may make (AWS usage plan quota), 1–1,000,000,000; beyond it API
       * Gateway answers 429 until the next UTC day. @default 1,000,000
       */
      dailyRequestQuota: intIn(1, 1_000_000_000).default(1_000_000),
    })
    .prefault({}),
  alarms: z
    .strictObject({
      /**
       * Email address subscribed to the alarm topic, notified when an alarm fires and when it clears. AWS
       * mails a confirmation link first; nothing arrives until it is followed. @default none
       */
      email: z
        .email({ error: (iss) => `must be an email address; received ${describeValue(iss.input)}` })
        .optional(),
      /**
       * ARN of an existing SNS topic (e.g. one wired to a pager or chat) every alarm notifies instead of a
       * topic of the stack's own. Its access policy must let `cloudwatch.amazonaws.com` publish.
       * @default none: the stack creates a topic
       */
      topicArn: resourceName(
        /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
        'must be an SNS topic ARN, arn:<partition>:sns:<region>:<account>:<name>',
      ).optional(),
    })
    .prefault({}),
  /** The rollups to maintain. Names must be unique. */
  rollups: z
    .array(RollupSchema)
    .min(1)
    .prefault(() => DEFAULT_ROLLUPS.map((r) => ({ ...r }))),
});

/** Configuration as users write it: every field optional. */
export type ShardlineConfigInput = z.input<typeof ConfigSchema>;
/** Configuration with every default applied and every rule checked. */
export type ResolvedConfig = z.output<typeof ConfigSchema>;
export type RollupConfig = ResolvedConfig['rollups'][number];
export type RollupInput = z.input<typeof RollupSchema>;

/** The rollups used when the config names none. */
export const DEFAULT_ROLLUPS: readonly RollupInput[] = [
  {
    name: 'site_telemetry',
    eventType: 'telemetry',
    metrics: ['temperature', 'humidity', 'battery'],
    by: ['dims.site'],
    windows: ['1m', '1h'],
  },
  {
    name: 'device_temperature',
    eventType: 'telemetry',
    metrics: ['temperature'],
    by: ['source'],
    windows: ['1h'],
    freshness: 'onClose',
  },
  { name: 'events_by_type', by: ['type'], windows: ['1m', '1h'] },
  {
    name: 'temperature_quantiles',
    eventType: 'telemetry',
    metrics: ['temperature'],
    by: ['dims.site'],
    windows: ['1m', '1h'],
    stats: ['count', 'p50', 'p90', 'p99'],
  },
  {
    name: 'active_devices',
    eventType: 'telemetry',
    by: ['dims.site'],
    windows: ['1h'],
    stats: ['count', 'distinct:source'],
    freshness: 'onClose',
  },
  {
    name: 'page_visitors',
    eventType: 'pageview',
    by: ['dims.page'],
    windows: ['1h'],
    stats: ['count', 'distinct:source'],
    freshness: 'onClose',
  },
];

/**
 * Applies defaults and validates. Throws one {@link ConfigError} listing every problem.
 *
 * @example
 * ```ts
 * const config = resolveConfig({ stream: { shardCount: 2 } });
 * config.eventSource.batchSize; // 500
 * ```
 */
export function resolveConfig(input: ShardlineConfigInput = {}): ResolvedConfig {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${formatPath(i.path)}: ${i.message}`);
    throw new ConfigError(`invalid Shardline config:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  const problems: string[] = [];
  const names = new Set<string>();
  for (const [i, r] of config.rollups.entries()) {
    if (names.has(r.name)) problems.push(`  rollups[${i}].name: duplicate rollup name "${r.name}"`);
    names.add(r.name);
    if (r.metrics.length === 0 && r.stats.some((s) => s !== 'count' && !s.startsWith('distinct:'))) {
      problems.push(
        `  rollups[${i}].stats: a rollup without metrics can only count (and count distinct values); received ${r.stats.join(',')}`,
      );
    }
    if (quantileStats(r.stats).length > 0 && r.metrics.length > MAX_QUANTILE_METRICS) {
      problems.push(
        `  rollups[${i}].metrics: a rollup with quantile stats keeps one sketch per metric and must have at most ${MAX_QUANTILE_METRICS} metrics (to stay within DynamoDB's 400 KB item limit); received ${r.metrics.length}`,
      );
    }
    const distinct = new Set(distinctFieldsOf(r.stats));
    if (distinct.size > MAX_DISTINCT_FIELDS) {
      problems.push(
        `  rollups[${i}].stats: at most ${MAX_DISTINCT_FIELDS} distinct: stats per rollup (to stay within DynamoDB's 400 KB item limit); received ${distinct.size}`,
      );
    }
    if (new Set(r.windows).size !== r.windows.length)
      problems.push(`  rollups[${i}].windows: duplicate window`);
  }
  const cap = config.table.capacity;
  if (cap.mode === 'provisioned') {
    for (const k of ['writeCapacity', 'readCapacity'] as const) {
      if (cap[k].min > cap[k].max)
        problems.push(
          `  table.capacity.${k}: min must be at most max; received min ${cap[k].min}, max ${cap[k].max}`,
        );
    }
  }
  if (config.archive.format === 'parquet' && config.archive.bufferSizeMiB < 64) {
    problems.push(
      `  archive.bufferSizeMiB: Firehose Parquet conversion needs at least 64; received ${config.archive.bufferSizeMiB}`,
    );
  }
  if (
    config.eventSource.startingPosition === 'AT_TIMESTAMP' &&
    config.eventSource.startingPositionTimestamp === undefined
  ) {
    problems.push('  eventSource.startingPositionTimestamp: required when startingPosition is AT_TIMESTAMP');
  }
  if (problems.length > 0) throw new ConfigError(`invalid Shardline config:\n${problems.join('\n')}`);
  return config;
}
