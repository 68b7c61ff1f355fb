/**
 * How AWS meters the requests Shardline makes (pure arithmetic, no prices): DynamoDB item sizes and
 * capacity units, Kinesis PUT payload units, Firehose billed bytes, Lambda GB-seconds. `shardline cost
 * --measure` applies these rules to what a local run really sent; prices are in `prices.ts`.
 *
 * Sources (AWS documentation): DynamoDB Developer Guide, "Item sizes and formats" and "Read/write capacity
 * mode"; Amazon Kinesis Data Streams pricing ("PUT Payload Unit ... 25 KB payload chunks"); Amazon Data
 * Firehose pricing ("ingestion ... each record rounded up to the nearest 5 KB"); AWS Lambda pricing
 * (duration rounded up to 1 ms, charged per GB-second of configured memory) and "Lambda memory and
 * computing power" (1,769 MB has the equivalent of one vCPU).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export const KB = 1024;

/** Bytes of a DynamoDB number as stored: 1 byte per two significant digits, plus 1 byte. */
export function numberSize(n: string): number {
  let digits = n.trim().replace(/^[-+]/, '');
  const exp = digits.search(/[eE]/);
  if (exp >= 0) digits = digits.slice(0, exp);
  digits = digits.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  if (digits.length === 0) return 1;
  return Math.ceil(digits.length / 2) + 1;
}

/** Bytes of one attribute value by DynamoDB's item-size rules. */
export function attributeValueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (v.NS !== undefined) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (v.BS !== undefined) return v.BS.reduce((n, b) => n + b.length, 0);
  // Lists and maps: 3 bytes of overhead, plus 1 byte per element, plus the elements (and map keys).
  if (v.L !== undefined) return 3 + v.L.reduce((n, e) => n + 1 + attributeValueSize(e), 0);
  if (v.M !== undefined)
    return (
      3 + Object.entries(v.M).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + attributeValueSize(e), 0)
    );
  return 0;
}

/** Bytes of an item: every attribute's name (UTF-8) plus its value. */
export function itemSize(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [name, value] of Object.entries(item)) n += Buffer.byteLength(name) + attributeValueSize(value);
  return n;
}

/**
 * Write units of one PutItem/UpdateItem/DeleteItem: one per started KB of the larger of the item before and
 * after the write (at least 1). A write whose condition fails is billed the same way.
 */
export function writeUnits(afterBytes: number, beforeBytes = 0): number {
  return Math.max(1, Math.ceil(Math.max(afterBytes, beforeBytes) / KB));
}

/**
 * Read units of reading `bytes`: one per started 4 KB for a strongly consistent read, half that for an
 * eventually consistent one; reading nothing still costs the minimum.
 */
export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / (4 * KB)));
  return consistent ? units : units / 2;
}

/** Kinesis PUT payload units of one record of `bytes`: one per started 25 KB. */
export function putPayloadUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / (25 * KB)));
}

/** Firehose billed bytes of one record of `bytes` (a Kinesis record, aggregated or not): rounded up to 5 KB. */
export function firehoseBilledBytes(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / (5 * KB))) * 5 * KB;
}

/** Memory at which a Lambda function has the equivalent of one full vCPU. */
export const LAMBDA_FULL_VCPU_MIB = 1769;

/**
 * GB-seconds Lambda bills for a handler that took `ms` on a full core: duration is rounded up to 1 ms, and
 * below {@link LAMBDA_FULL_VCPU_MIB} the function has a proportional share of a vCPU, so CPU-bound time
 * stretches by `1769 / memoryMiB` (taken as all of it: an upper bound when part of `ms` is I/O wait).
 */
export function lambdaGbSeconds(ms: number, memoryMiB: number): number {
  const stretch = Math.max(1, LAMBDA_FULL_VCPU_MIB / memoryMiB);
  return (Math.ceil(ms * stretch) / 1000) * (memoryMiB / 1024);
}
