/**
 * One delivery stream's buffer and its S3 delivery: the IO shell around the pure buffering decisions
 * ({@link planAppend}, {@link intervalDue}), naming ({@link objectKey}) and conversion ({@link recordConverter}).
 * Deliveries run one at a time, in the order buffers were cut, so "batch k delivered" implies every earlier
 * batch is delivered too (the Kinesis checkpoints rely on that).
 */
import { gzipSync } from 'node:zlib';
import type { ArchiveColumn } from '../../../common/envelope.ts';
import {
  type BufferedRecord,
  type BufferingHints,
  type DeliveryReason,
  intervalDue,
  oldestArrival,
  planAppend,
} from './buffer.ts';
import {
  type Cell,
  type DataCatalogTable,
  formatConversionErrorRecord,
  type RecordConverter,
  recordConverter,
} from './convert.ts';
import { objectKey, type ParsedPrefix } from './naming.ts';
import type { ObjectWriter } from './writer.ts';

/** Output format of a delivery stream. */
export type DeliveryFormat = 'parquet' | 'json' | 'json.gz';

/** Everything that defines a delivery stream. */
export interface DeliveryStreamSpec {
  readonly name: string;
  readonly type: 'DirectPut' | 'KinesisStreamAsSource';
  readonly bucket: string;
  /** Prefix as configured (echoed by DescribeDeliveryStream). */
  readonly prefixSource: string;
  readonly errorPrefixSource: string;
  readonly prefix: ParsedPrefix;
  readonly errorPrefix: ParsedPrefix;
  readonly hints: BufferingHints;
  readonly format: DeliveryFormat;
  /** Columns for Parquet conversion. */
  readonly columns?: readonly ArchiveColumn[];
  /** The Glue table echoed in conversion error records. */
  readonly table?: DataCatalogTable;
  /** ARN of the Kinesis source stream. */
  readonly sourceStreamArn?: string;
  readonly createdAtMs: number;
}

/** Counters of one delivery stream. */
export interface DeliveryStats {
  recordsDelivered: number;
  objectsWritten: number;
  errorsWritten: number;
  deliveryFailures: number;
}

/** Outcome of delivering one batch. */
export interface DeliveredBatch {
  readonly records: readonly BufferedRecord[];
  readonly reason: DeliveryReason;
  /** Object paths written (data and error objects). */
  readonly paths: readonly string[];
}

export interface DeliveryDeps {
  readonly writer: ObjectWriter;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** Called after a batch is written (in order). */
  readonly onDelivered?: (batch: DeliveredBatch) => void | Promise<void>;
}

const RETRY_DELAYS_MS = [100, 500, 2000];
const ERROR_OUTPUT_TYPE = 'format-conversion-failed';

export class DeliveryStream {
  readonly spec: DeliveryStreamSpec;
  readonly stats: DeliveryStats = {
    recordsDelivered: 0,
    objectsWritten: 0,
    errorsWritten: 0,
    deliveryFailures: 0,
  };
  readonly #deps: DeliveryDeps;
  readonly #converter: RecordConverter | null;
  #records: BufferedRecord[] = [];
  #bytes = 0;
  #openedAtMs: number | null = null;
  #chain: Promise<void> = Promise.resolve();

  constructor(spec: DeliveryStreamSpec, deps: DeliveryDeps) {
    this.spec = spec;
    this.#deps = deps;
    this.#converter = spec.format === 'parquet' ? recordConverter(spec.columns ?? []) : null;
  }

  /** Adds a record; delivers buffers the size hint closes. */
  add(record: BufferedRecord): void {
    const plan = planAppend(
      { count: this.#records.length, bytes: this.#bytes, openedAtMs: this.#openedAtMs },
      record.data.byteLength,
      this.spec.hints,
    );
    if (plan.closeBefore) this.#cut('size');
    this.#records.push(record);
    this.#bytes += record.data.byteLength;
    this.#openedAtMs ??= this.#deps.now();
    if (plan.closeAfter) this.#cut('size');
  }

  /** Delivers the open buffer if its interval has passed. */
  tick(): void {
    const size = { count: this.#records.length, bytes: this.#bytes, openedAtMs: this.#openedAtMs };
    if (intervalDue(size, this.spec.hints, this.#deps.now())) this.#cut('interval');
  }

  /** Delivers the open buffer now and waits for every delivery in flight. */
  async flush(): Promise<void> {
    this.#cut('flush');
    await this.#chain;
  }

  #cut(reason: DeliveryReason): void {
    if (this.#records.length === 0) return;
    const records = this.#records;
    this.#records = [];
    this.#bytes = 0;
    this.#openedAtMs = null;
    this.#chain = this.#chain.then(() => this.#deliverWithRetry(records, reason));
  }

  async #deliverWithRetry(records: BufferedRecord[], reason: DeliveryReason): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const paths = await this.#deliver(records);
        await this.#deps.onDelivered?.({ records, reason, paths });
        return;
      } catch (e) {
        this.stats.deliveryFailures++;
        const delay = RETRY_DELAYS_MS[attempt];
        if (delay === undefined) {
          this.#deps.log(
            `firehose ${this.spec.name}: dropped a batch of ${records.length} records after ${attempt + 1} failed deliveries (not checkpointed, so a restart re-reads a Kinesis source): ${(e as Error).message}`,
          );
          return;
        }
        this.#deps.log(
          `firehose ${this.spec.name}: delivery failed, retrying in ${delay} ms: ${(e as Error).message}`,
        );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #deliver(records: readonly BufferedRecord[]): Promise<string[]> {
    const { spec } = this;
    const paths: string[] = [];
    if (this.#converter === null) {
      const joined = Buffer.concat(records.map((r) => r.data));
      const gz = spec.format === 'json.gz';
      const key = objectKey({
        prefix: spec.prefix,
        deliveryStreamName: spec.name,
        arrivalMs: oldestArrival(records),
        extension: gz ? '.gz' : '',
      });
      paths.push(await this.#deps.writer.writeBytes(spec.bucket, key, gz ? gzipSync(joined) : joined));
      this.stats.objectsWritten++;
      this.stats.recordsDelivered += records.length;
      return paths;
    }
    const rows: Readonly<Record<string, Cell>>[] = [];
    const good: BufferedRecord[] = [];
    const failed: string[] = [];
    const failedRecords: BufferedRecord[] = [];
    const endedAt = this.#deps.now();
    for (const record of records) {
      const result = this.#converter.convert(record.data);
      if (result.ok) {
        rows.push(result.row);
        good.push(record);
      } else {
        failedRecords.push(record);
        failed.push(
          JSON.stringify(
            formatConversionErrorRecord({
              data: record.data,
              arrivalMs: record.arrivalMs,
              attemptEndingMs: endedAt,
              sequenceNumber: record.sequenceNumber,
              subSequenceNumber: record.subSequenceNumber,
              errorCode: result.errorCode,
              errorMessage: result.errorMessage,
              table: spec.table ?? {
                catalogId: null,
                databaseName: '',
                tableName: '',
                region: '',
                versionId: 'LATEST',
                roleArn: '',
              },
            }),
          ),
        );
      }
    }
    if (rows.length > 0) {
      const key = objectKey({
        prefix: spec.prefix,
        deliveryStreamName: spec.name,
        arrivalMs: oldestArrival(good),
        extension: '.parquet',
      });
      paths.push(await this.#deps.writer.writeParquet(spec.bucket, key, spec.columns ?? [], rows));
      this.stats.objectsWritten++;
    }
    if (failed.length > 0) {
      const key = objectKey({
        prefix: spec.errorPrefix,
        deliveryStreamName: spec.name,
        arrivalMs: oldestArrival(failedRecords),
        extension: '',
        errorOutputType: ERROR_OUTPUT_TYPE,
      });
      paths.push(await this.#deps.writer.writeBytes(spec.bucket, key, Buffer.from(`${failed.join('\n')}\n`)));
      this.stats.objectsWritten++;
    }
    this.stats.recordsDelivered += rows.length;
    this.stats.errorsWritten += failed.length;
    return paths;
  }
}
