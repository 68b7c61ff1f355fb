/**
 * KPL aggregation through aws-kinesis-agg's `RecordAggregator`: magic `F3 89 9A C2`, protobuf
 * `AggregatedRecord`, 16-byte MD5. We size records ourselves in UTF-8 bytes (the library counts partition
 * keys in UTF-16 units) so an aggregate never exceeds the configured record limit.
 */
import aggregation from 'aws-kinesis-agg';

interface AggUserRecord {
  partitionKey: string;
  explicitHashKey?: string;
  data: Buffer;
}

interface AggEncodedRecord {
  partitionKey: string;
  data: Buffer;
  ExplicitHashKey?: string;
}

interface RecordAggregatorInstance {
  addUserRecord(record: AggUserRecord): void;
  build(): AggEncodedRecord | undefined;
  length(): number;
}

// A static import, so esbuild bundles the library into the ingest Lambda (it has no node_modules).
const { RecordAggregator } = aggregation as unknown as {
  RecordAggregator: new () => RecordAggregatorInstance;
};

/** Magic prefix and checksum suffix of an aggregated record. */
export const KPL_MAGIC = Uint8Array.from([0xf3, 0x89, 0x9a, 0xc2]);
const OVERHEAD = KPL_MAGIC.length + 16;

function varintSize(value: number): number {
  let n = 1;
  let v = value;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** A user record before aggregation. */
export interface UserRecordInput {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
}

/** One aggregated Kinesis record under construction. */
export class KplAggregate {
  private readonly agg = new RecordAggregator();
  private readonly pkIndex = new Map<string, number>();
  private readonly ehkIndex = new Map<string, number>();
  private protoBytes = 0;
  readonly records: UserRecordInput[] = [];

  constructor(private readonly maxRecordBytes: number) {}

  /** Bytes the encoded aggregate would have with `record` added. */
  sizeWith(record: UserRecordInput): number {
    let size = this.protoBytes;
    const pkBytes = Buffer.byteLength(record.partitionKey, 'utf8');
    const pkIdx = this.pkIndex.get(record.partitionKey) ?? this.pkIndex.size;
    if (!this.pkIndex.has(record.partitionKey)) size += 1 + varintSize(pkBytes) + pkBytes;
    let inner = 1 + varintSize(pkIdx);
    if (record.explicitHashKey !== undefined) {
      const ehkIdx = this.ehkIndex.get(record.explicitHashKey) ?? this.ehkIndex.size;
      if (!this.ehkIndex.has(record.explicitHashKey))
        size += 1 + varintSize(record.explicitHashKey.length) + record.explicitHashKey.length;
      inner += 1 + varintSize(ehkIdx);
    }
    inner += 1 + varintSize(record.data.byteLength) + record.data.byteLength;
    size += 1 + varintSize(inner) + inner;
    return size + OVERHEAD;
  }

  /** Adds the record if the aggregate stays within the limit; returns whether it did. */
  tryAdd(record: UserRecordInput): boolean {
    const size = this.sizeWith(record);
    if (this.records.length > 0 && size > this.maxRecordBytes) return false;
    if (size > this.maxRecordBytes) {
      // Too big to aggregate at all: it travels alone, plain.
      this.records.push(record);
      this.protoBytes = Number.POSITIVE_INFINITY;
      return true;
    }
    this.agg.addUserRecord({
      partitionKey: record.partitionKey,
      ...(record.explicitHashKey === undefined ? {} : { explicitHashKey: record.explicitHashKey }),
      data: Buffer.from(record.data.buffer, record.data.byteOffset, record.data.byteLength),
    });
    if (!this.pkIndex.has(record.partitionKey)) this.pkIndex.set(record.partitionKey, this.pkIndex.size);
    if (record.explicitHashKey !== undefined && !this.ehkIndex.has(record.explicitHashKey)) {
      this.ehkIndex.set(record.explicitHashKey, this.ehkIndex.size);
    }
    this.protoBytes = size - OVERHEAD;
    this.records.push(record);
    return true;
  }

  /**
   * The Kinesis record to put. A single user record is sent plain (as the KPL does), which also lets a
   * record of exactly the size limit through.
   */
  build(): { data: Uint8Array; partitionKey: string; explicitHashKey?: string } {
    const first = this.records[0];
    if (!first) throw new Error('KplAggregate.build: empty aggregate');
    if (this.records.length === 1) return first;
    const encoded = this.agg.build();
    if (!encoded) throw new Error('KplAggregate.build: aggregator returned nothing');
    const data = new Uint8Array(encoded.data.buffer, encoded.data.byteOffset, encoded.data.byteLength);
    if (data.byteLength > this.maxRecordBytes) {
      throw new Error(
        `KplAggregate.build: ${data.byteLength} bytes exceeds ${this.maxRecordBytes}; size estimate is wrong`,
      );
    }
    return {
      data,
      partitionKey: first.partitionKey,
      ...(first.explicitHashKey === undefined ? {} : { explicitHashKey: first.explicitHashKey }),
    };
  }
}

/** Whether bytes start with the KPL magic number. */
export function isAggregated(data: Uint8Array): boolean {
  return data.byteLength >= OVERHEAD && KPL_MAGIC.every((b, i) => data[i] === b);
}
