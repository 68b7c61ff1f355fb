/**
 * Pure helpers of the event source mapping: Lambda's Kinesis event and context, the batch response parser
 * (ReportBatchItemFailures) and the OnFailure message. No IO here.
 */
import { randomUUID } from 'node:crypto';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

/** A Kinesis record as the poller holds it (what GetRecords returned, data still raw). */
export interface PolledRecord {
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** Epoch milliseconds. */
  readonly arrivalMs: number;
}

/** What every record of one mapping shares. */
export interface RecordOrigin {
  readonly shardId: string;
  readonly streamArn: string;
  readonly region: string;
  readonly invokeIdentityArn: string;
}

/** Builds one record exactly as Lambda does (field order included). */
export function toLambdaRecord(record: PolledRecord, origin: RecordOrigin): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      data: Buffer.from(record.data.buffer, record.data.byteOffset, record.data.byteLength).toString(
        'base64',
      ),
      approximateArrivalTimestamp: record.arrivalMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${origin.shardId}:${record.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: origin.invokeIdentityArn,
    awsRegion: origin.region,
    eventSourceARN: origin.streamArn,
  };
}

export function toLambdaEvent(records: readonly PolledRecord[], origin: RecordOrigin): KinesisStreamEvent {
  return { Records: records.map((r) => toLambdaRecord(r, origin)) };
}

/** Bytes `{"Records":[]}` takes on its own. */
export const EVENT_OVERHEAD_BYTES = Buffer.byteLength('{"Records":[]}');

/** Serialized size of one record inside the event, separator included. */
export function recordPayloadBytes(record: PolledRecord, origin: RecordOrigin): number {
  return Buffer.byteLength(JSON.stringify(toLambdaRecord(record, origin))) + 1;
}

/**
 * {@link recordPayloadBytes} without building and serializing the record: the parts every record of one
 * origin shares are measured once, then each record adds its variable parts (base64 length, partition key,
 * sequence number twice, arrival timestamp). Same result, a few additions instead of a JSON.stringify.
 */
export function payloadSizer(origin: RecordOrigin): (record: PolledRecord) => number {
  const empty: PolledRecord = { sequenceNumber: '', partitionKey: '', data: new Uint8Array(), arrivalMs: 0 };
  // The template with every variable part empty (arrival 0 serializes as "0": one character).
  const fixed = recordPayloadBytes(empty, origin) - 2 - 1;
  return (record) => {
    const pk = record.partitionKey;
    const pkBytes = isPlainAscii(pk) ? pk.length + 2 : Buffer.byteLength(JSON.stringify(pk));
    return (
      fixed +
      pkBytes +
      2 * record.sequenceNumber.length +
      4 * Math.ceil(record.data.byteLength / 3) +
      String(record.arrivalMs / 1000).length
    );
  };
}

/** Printable ASCII that JSON does not escape (no `"` or `\\`). */
function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** Parses a function ARN `arn:aws:lambda:<region>:<account>:function:<name>`. */
export function parseFunctionArn(arn: string): { region: string; account: string; name: string } | undefined {
  const m = /^arn:aws[a-z-]*:lambda:([^:]*):(\d{12}):function:([^:]+)(?::.*)?$/.exec(arn);
  return m ? { region: m[1] as string, account: m[2] as string, name: m[3] as string } : undefined;
}

/** A Lambda-like context whose remaining time counts down from the function timeout. */
export function lambdaContext(options: {
  functionArn: string;
  timeoutMs: number;
  memoryMb?: number;
  requestId?: string;
}): Context {
  const parsed = parseFunctionArn(options.functionArn);
  const name = parsed?.name ?? 'function';
  const deadline = Date.now() + options.timeoutMs;
  const requestId = options.requestId ?? randomUUID();
  const today = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: options.functionArn,
    memoryLimitInMB: String(options.memoryMb ?? 1024),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `${today}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** How Lambda reads a response when ReportBatchItemFailures is on. */
export type BatchResponseOutcome =
  | { readonly kind: 'success' }
  /** Records from `index` on failed (index = position of the lowest failed sequence number in the batch). */
  | { readonly kind: 'partial'; readonly index: number }
  /** The whole batch failed: `reason` says why. */
  | { readonly kind: 'invalid'; readonly reason: string };

function isRecordObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses a function response per Lambda's ReportBatchItemFailures rules.
 * Success: `""`, `[]`, `null`, `{}` (or any response without `batchItemFailures`), `{batchItemFailures: []}`,
 * `{batchItemFailures: null}`. Whole-batch failure: an entry whose `itemIdentifier` is `""`, `null`, missing,
 * not a string, or not a sequence number of the batch; or `batchItemFailures` that is not an array.
 * Otherwise the lowest failed sequence number marks where the retry starts.
 */
export function parseBatchResponse(
  response: unknown,
  sequenceNumbers: readonly string[],
): BatchResponseOutcome {
  if (!isRecordObject(response) || !('batchItemFailures' in response)) return { kind: 'success' };
  const failures = response.batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'invalid', reason: 'batchItemFailures is not an array' };
  if (failures.length === 0) return { kind: 'success' };
  const index = new Map(sequenceNumbers.map((s, i) => [s, i]));
  let lowest = Number.POSITIVE_INFINITY;
  for (const entry of failures) {
    if (!isRecordObject(entry) || !('itemIdentifier' in entry)) {
      return { kind: 'invalid', reason: `malformed batchItemFailures entry ${JSON.stringify(entry)}` };
    }
    const id = entry.itemIdentifier;
    if (typeof id !== 'string' || id === '') {
      return {
        kind: 'invalid',
        reason: `itemIdentifier must be a non-empty string; received ${JSON.stringify(id)}`,
      };
    }
    const at = index.get(id);
    if (at === undefined)
      return { kind: 'invalid', reason: `itemIdentifier ${id} is not a sequence number of the batch` };
    lowest = Math.min(lowest, at);
  }
  return { kind: 'partial', index: lowest };
}

export type OnFailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/** The OnFailure invocation record, S3-destination form (with `payload`). */
export interface OnFailureMessage {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: OnFailureCondition;
    approximateInvokeCount: number;
  };
  responseContext?: { statusCode: number; executedVersion: string; functionError?: string };
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
  payload: KinesisStreamEvent;
}

/**
 * Builds the OnFailure message. `RecordAgeExceeded` carries no `responseContext` (as recorded against AWS);
 * `functionError` is `Unhandled` after a thrown error or a timeout and absent after a reported failure.
 */
export function onFailureMessage(args: {
  requestId: string;
  functionArn: string;
  condition: OnFailureCondition;
  approximateInvokeCount: number;
  functionError: boolean;
  records: readonly PolledRecord[];
  origin: RecordOrigin;
  now: number;
}): OnFailureMessage {
  const first = args.records[0];
  const last = args.records[args.records.length - 1];
  if (first === undefined || last === undefined)
    throw new RangeError('an OnFailure batch needs at least one record');
  const message: OnFailureMessage = {
    requestContext: {
      requestId: args.requestId,
      functionArn: args.functionArn,
      condition: args.condition,
      approximateInvokeCount: args.approximateInvokeCount,
    },
    version: '1.0',
    timestamp: new Date(args.now).toISOString(),
    KinesisBatchInfo: {
      shardId: args.origin.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
      batchSize: args.records.length,
      streamArn: args.origin.streamArn,
    },
    payload: toLambdaEvent(args.records, args.origin),
  };
  if (args.condition === 'RetryAttemptsExhausted') {
    message.responseContext = args.functionError
      ? { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' }
      : { statusCode: 200, executedVersion: '$LATEST' };
  }
  // Keep AWS's key order: requestContext, responseContext, version, timestamp, KinesisBatchInfo, payload.
  const { requestContext, responseContext, version, timestamp, KinesisBatchInfo, payload } = message;
  return responseContext === undefined
    ? { requestContext, version, timestamp, KinesisBatchInfo, payload }
    : { requestContext, responseContext, version, timestamp, KinesisBatchInfo, payload };
}

/** S3-destination key of an OnFailure record: `aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`. */
export function onFailureKey(
  mappingUuid: string,
  shardId: string,
  now: number,
  id: string = randomUUID(),
): string {
  const iso = new Date(now).toISOString();
  const [y, m, d] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
  const stamp = `${iso.slice(0, 10)}T${iso.slice(11, 19).replaceAll(':', '.')}`;
  return `aws/lambda/${mappingUuid}/${shardId}/${y}/${m}/${d}/${stamp}-${id}`;
}
