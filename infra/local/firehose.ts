/**
 * The local Amazon Data Firehose: a faithful stand-in for the two delivery streams Shardline uses.
 *
 * - `config.archive.deliveryStreamName` reads `config.stream.name` (Kinesis source) as its own consumer,
 *   deaggregates KPL records, buffers by size/interval and writes objects under
 *   `<dataDir>/s3/<config.archive.bucket>/<evaluated rawPrefix><name>-1-<yyyy-MM-dd-HH-mm-ss>-<uuid><ext>`,
 *   as Parquet (record format conversion to {@link ARCHIVE_COLUMNS}), JSON or gzipped JSON. Conversion
 *   failures land under the error prefix with `!{firehose:error-output-type}` = `format-conversion-failed`.
 *   Per-shard checkpoints in `<dataDir>/firehose/` let a restart resume (at-least-once).
 * - `config.quarantine.deliveryStreamName` is a Direct PUT stream served over the Firehose JSON API at
 *   {@link LocalFirehose.endpoint}, for the real `@aws-sdk/client-firehose`.
 *
 * @example
 * ```ts
 * const firehose = await LocalFirehose.start({ config, dataDir, kinesisClient, region: config.region });
 * const client = firehoseClient({ endpoint: firehose.endpoint, region: config.region });
 * // ... produce ...
 * await firehose.drain({ timeoutMs: 30_000 }); // everything in the stream is now in <dataDir>/s3/
 * await firehose.stop();
 * ```
 */

import { join } from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ResolvedConfig } from '../../common/config.ts';
import { ARCHIVE_COLUMNS } from '../../common/envelope.ts';
import { describeValue } from '../../common/errors.ts';
import { type ApiBackend, type ApiServer, startApiServer } from './firehose/api.ts';
import type { BufferedRecord } from './firehose/buffer.ts';
import { DeliveryStream, type DeliveryStreamSpec } from './firehose/delivery.ts';
import { FirehoseConfigError, FirehoseDrainTimeoutError, FirehoseStoppedError } from './firehose/errors.ts';
import { parsePrefix } from './firehose/naming.ts';
import { KinesisSource } from './firehose/source.ts';
import { ObjectWriter } from './firehose/writer.ts';
import { LOCAL_ACCOUNT, localStreamArn } from './private/arn.ts';

export type { FormatConversionErrorRecord } from './firehose/convert.ts';
export { FirehoseConfigError, FirehoseDrainTimeoutError, FirehoseStoppedError } from './firehose/errors.ts';
export { evaluatePrefix, objectKey, parsePrefix } from './firehose/naming.ts';

/** Account id echoed in ARNs (kinesalite's). */

/** Options of {@link LocalFirehose.start}. */
export interface LocalFirehoseOptions {
  /** The resolved Shardline config: stream, archive and quarantine settings. */
  readonly config: ResolvedConfig;
  /** Root of local data: objects go to `<dataDir>/s3/<bucket>/`, checkpoints to `<dataDir>/firehose/`. */
  readonly dataDir: string;
  /** Client of the source Kinesis stream (kinesalite or any endpoint). */
  readonly kinesisClient: KinesisClient;
  /** Region echoed in ARNs. */
  readonly region: string;
  /** Log sink for delivery problems. @default no logging */
  readonly log?: (line: string) => void;
  /** Milliseconds between polls of each source shard, 10–60,000 (AWS polls about once per second). @default 1000 */
  readonly pollIntervalMs?: number;
  /** Clock for arrival times of Direct PUT records and buffer intervals, epoch ms. @default Date.now */
  readonly now?: () => number;
  /** Port of the Firehose API on 127.0.0.1, 0–65,535 (0 picks a free one). @default 0 */
  readonly port?: number;
}

/** Counters since start. */
export interface LocalFirehoseStats {
  /** User records read from the source stream (after KPL deaggregation). */
  readonly recordsRead: number;
  /** Records written to data objects, all delivery streams. */
  readonly recordsDelivered: number;
  /** Objects written, data and error objects. */
  readonly objectsWritten: number;
  /** Records written to the error prefix. */
  readonly errorsWritten: number;
  /** Records accepted through PutRecord/PutRecordBatch. */
  readonly directPutRecords: number;
}

interface ResolvedOptions {
  readonly pollIntervalMs: number;
  readonly port: number;
  readonly now: () => number;
  readonly log: (line: string) => void;
}

function resolveOptions(options: LocalFirehoseOptions): ResolvedOptions {
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 10 || pollIntervalMs > 60_000) {
    throw new FirehoseConfigError(
      `pollIntervalMs must be an integer between 10 and 60000; received ${describeValue(pollIntervalMs)}`,
    );
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new FirehoseConfigError(
      `port must be an integer between 0 and 65535; received ${describeValue(port)}`,
    );
  }
  return { pollIntervalMs, port, now: options.now ?? Date.now, log: options.log ?? (() => undefined) };
}

/** The Kinesis-source delivery stream that archives raw events, as the config declares it. */
export function archiveStreamSpec(
  config: ResolvedConfig,
  region: string,
  createdAtMs: number,
): DeliveryStreamSpec {
  return {
    name: config.archive.deliveryStreamName,
    type: 'KinesisStreamAsSource',
    bucket: config.archive.bucket,
    prefixSource: config.archive.rawPrefix,
    errorPrefixSource: config.archive.errorPrefix,
    prefix: parsePrefix(config.archive.rawPrefix, 'data'),
    errorPrefix: parsePrefix(config.archive.errorPrefix, 'error'),
    hints: { sizeMiB: config.archive.bufferSizeMiB, intervalSeconds: config.archive.bufferIntervalSeconds },
    format: config.archive.format,
    columns: ARCHIVE_COLUMNS,
    table: {
      catalogId: null,
      databaseName: config.athena.database,
      tableName: config.archive.tableName,
      region,
      versionId: 'LATEST',
      roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${config.archive.deliveryStreamName}-role`,
    },
    sourceStreamArn: localStreamArn(region, config.stream.name),
    createdAtMs,
  };
}

/** The Direct PUT delivery stream of quarantined records, as the config declares it. */
export function quarantineStreamSpec(config: ResolvedConfig, createdAtMs: number): DeliveryStreamSpec {
  return {
    name: config.quarantine.deliveryStreamName,
    type: 'DirectPut',
    bucket: config.archive.bucket,
    prefixSource: config.quarantine.prefix,
    errorPrefixSource: config.archive.errorPrefix,
    prefix: parsePrefix(config.quarantine.prefix, 'data'),
    errorPrefix: parsePrefix(config.archive.errorPrefix, 'error'),
    hints: {
      sizeMiB: config.quarantine.bufferSizeMiB,
      intervalSeconds: config.quarantine.bufferIntervalSeconds,
    },
    format: 'json',
    createdAtMs,
  };
}

/**
 * Writes `records` as one delivery of the archive (or quarantine) stream, through the same write path the
 * running Firehose uses: object names, prefixes, Parquet conversion and error output included. For tests
 * and benchmarks that need an archive without streaming it. Returns the object paths written.
 */
export async function deliverObjects(options: {
  readonly config: ResolvedConfig;
  readonly dataDir: string;
  readonly records: readonly { readonly data: Uint8Array; readonly arrivalMs: number }[];
  /** @default 'archive' */
  readonly stream?: 'archive' | 'quarantine';
  /** @default 'us-east-1' */
  readonly region?: string;
}): Promise<string[]> {
  const { config } = options;
  const spec =
    options.stream === 'quarantine'
      ? quarantineStreamSpec(config, 0)
      : archiveStreamSpec(config, options.region ?? 'us-east-1', 0);
  const writer = new ObjectWriter(options.dataDir);
  const paths: string[] = [];
  // The latest arrival (a loop: spreading a large batch into Math.max overflows the call stack).
  let lastArrivalMs = Number.NEGATIVE_INFINITY;
  for (const r of options.records) if (r.arrivalMs > lastArrivalMs) lastArrivalMs = r.arrivalMs;
  const stream = new DeliveryStream(
    // One object per call: no size or interval cut while adding.
    { ...spec, hints: { sizeMiB: 128, intervalSeconds: 900 } },
    {
      writer,
      now: () => lastArrivalMs,
      log: () => {},
      onDelivered: (batch) => {
        paths.push(...batch.paths);
      },
    },
  );
  try {
    for (const r of options.records) {
      stream.add({
        data: r.data,
        arrivalMs: r.arrivalMs,
        shardId: null,
        sequenceNumber: null,
        subSequenceNumber: null,
        completesSequence: true,
      });
    }
    await stream.flush();
  } finally {
    await writer.close();
  }
  return paths;
}

/** Tick of the buffer-interval check, ms. */
const TICK_MS = 100;

export class LocalFirehose {
  /** `http://127.0.0.1:<port>`, answering the Firehose JSON API. */
  readonly endpoint: string;
  readonly #archive: DeliveryStream;
  readonly #streams: readonly DeliveryStream[];
  readonly #source: KinesisSource;
  readonly #server: ApiServer;
  readonly #writer: ObjectWriter;
  readonly #o: ResolvedOptions;
  #directPutRecords = 0;
  #faults: string[] = [];
  #pollTimer: NodeJS.Timeout | null = null;
  #tickTimer: NodeJS.Timeout | null = null;
  #polling: Promise<unknown> = Promise.resolve();
  #stopped = false;

  private constructor(parts: {
    archive: DeliveryStream;
    streams: readonly DeliveryStream[];
    source: KinesisSource;
    server: ApiServer;
    writer: ObjectWriter;
    options: ResolvedOptions;
  }) {
    this.#archive = parts.archive;
    this.#streams = parts.streams;
    this.#source = parts.source;
    this.#server = parts.server;
    this.#writer = parts.writer;
    this.#o = parts.options;
    this.endpoint = parts.server.endpoint;
  }

  /** Creates the delivery streams, loads checkpoints, starts the API server and the source poller. */
  static async start(options: LocalFirehoseOptions): Promise<LocalFirehose> {
    const o = resolveOptions(options);
    const { config, region } = options;
    const writer = new ObjectWriter(options.dataDir);
    let source: KinesisSource | null = null;
    let archive: DeliveryStream | null = null;
    const createdAtMs = Date.now();
    const archiveSpec = archiveStreamSpec(config, region, createdAtMs);
    const quarantineSpec = quarantineStreamSpec(config, createdAtMs);
    if (archiveSpec.name === quarantineSpec.name) {
      throw new FirehoseConfigError(
        `quarantine.deliveryStreamName must differ from archive.deliveryStreamName; received ${describeValue(quarantineSpec.name)} for both`,
      );
    }
    archive = new DeliveryStream(archiveSpec, {
      writer,
      now: o.now,
      log: o.log,
      onDelivered: (batch) => source?.delivered(batch.records),
    });
    const quarantine = new DeliveryStream(quarantineSpec, { writer, now: o.now, log: o.log });
    const streams = [archive, quarantine];
    const archiveStream = archive;
    source = new KinesisSource({
      client: options.kinesisClient,
      streamName: config.stream.name,
      checkpointPath: join(options.dataDir, 'firehose', `${archiveSpec.name}.checkpoints.json`),
      onRecords: (records) => {
        for (const r of records) archiveStream.add(r);
      },
      log: o.log,
    });
    await source.init();
    let firehose: LocalFirehose | null = null;
    const backend: ApiBackend = {
      region,
      accountId: LOCAL_ACCOUNT,
      stream: (name) => streams.find((s) => s.spec.name === name),
      streams: () => streams,
      accept: (stream, records) => {
        if (firehose) firehose.#accept(stream, records);
      },
      takeFault: () => (firehose ? (firehose.#faults.shift() ?? null) : null),
    };
    const server = await startApiServer(backend, o.port);
    firehose = new LocalFirehose({ archive, streams, source, server, writer, options: o });
    // The first listing happens before start() returns, so records put after it are delivered (LATEST).
    await source
      .poll()
      .catch((e: unknown) => o.log(`firehose ${archiveSpec.name}: poll failed: ${(e as Error).message}`));
    firehose.#schedulePoll(o.pollIntervalMs);
    firehose.#tickTimer = setInterval(() => {
      for (const s of streams) s.tick();
    }, TICK_MS);
    firehose.#tickTimer.unref();
    return firehose;
  }

  /**
   * Makes the next `n` Direct PUT record entries fail with `errorCode` (a PutRecordBatch entry gets
   * `ErrorCode` and counts in `FailedPutCount`; a PutRecord call fails as a whole). For tests and chaos runs.
   * @param n 0–1,000,000 entries.
   * @param errorCode `ServiceUnavailableException` (HTTP 503) or `InternalFailure` (500). @default 'ServiceUnavailableException'
   */
  failNextPuts(
    n: number,
    errorCode: 'ServiceUnavailableException' | 'InternalFailure' = 'ServiceUnavailableException',
  ): void {
    if (!Number.isInteger(n) || n < 0 || n > 1_000_000) {
      throw new FirehoseConfigError(
        `failNextPuts: n must be an integer between 0 and 1000000; received ${describeValue(n)}`,
      );
    }
    this.#faults = Array.from({ length: n }, () => errorCode);
  }

  /** Counters since start. */
  stats(): LocalFirehoseStats {
    const sum = (f: (s: DeliveryStream) => number) => this.#streams.reduce((a, s) => a + f(s), 0);
    return {
      recordsRead: this.#source.recordsRead,
      recordsDelivered: sum((s) => s.stats.recordsDelivered),
      objectsWritten: sum((s) => s.stats.objectsWritten),
      errorsWritten: sum((s) => s.stats.errorsWritten),
      directPutRecords: this.#directPutRecords,
    };
  }

  /** Delivers every buffer now (all delivery streams) and waits for the writes and checkpoints. */
  async flush(): Promise<void> {
    await Promise.all(this.#streams.map((s) => s.flush()));
    await this.#source.settled();
  }

  /**
   * Reads the source stream to its tip, then delivers every buffered record (a local-only operation, used
   * before reconcile). Throws {@link FirehoseDrainTimeoutError} if the tip is not reached in time.
   * @param options.timeoutMs 1–3,600,000 ms.
   */
  async drain(options: { readonly timeoutMs: number }): Promise<void> {
    const { timeoutMs } = options;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 3_600_000) {
      throw new FirehoseConfigError(
        `drain: timeoutMs must be an integer between 1 and 3600000; received ${describeValue(timeoutMs)}`,
      );
    }
    if (this.#stopped) throw new FirehoseStoppedError('drain: the local Firehose is stopped');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { atTip, fullPage } = await this.#source.poll();
      if (atTip) break;
      if (Date.now() >= deadline) {
        throw new FirehoseDrainTimeoutError(
          `drain: the source stream was not read to its tip within ${timeoutMs} ms (${this.stats().recordsRead} records read)`,
        );
      }
      if (!fullPage) await new Promise((r) => setTimeout(r, 50));
    }
    await this.flush();
  }

  /** Stops polling, flushes every buffer, stops the API server and closes DuckDB. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    if (this.#tickTimer) clearInterval(this.#tickTimer);
    await this.#polling;
    await this.#server.close();
    await this.flush();
    await this.#writer.close();
  }

  #accept(stream: DeliveryStream, records: readonly Uint8Array[]): void {
    const arrivalMs = this.#o.now();
    for (const data of records) {
      stream.add({
        data,
        arrivalMs,
        shardId: null,
        sequenceNumber: null,
        subSequenceNumber: null,
        completesSequence: true,
      } satisfies BufferedRecord);
    }
    this.#directPutRecords += records.length;
  }

  #schedulePoll(delayMs: number): void {
    if (this.#stopped) return;
    this.#pollTimer = setTimeout(() => {
      this.#polling = this.#source
        .poll()
        .catch((e: unknown) =>
          this.#o.log(`firehose ${this.#archive.spec.name}: poll failed: ${(e as Error).message}`),
        )
        .finally(() => this.#schedulePoll(this.#o.pollIntervalMs));
    }, delayMs);
    this.#pollTimer.unref();
  }
}
