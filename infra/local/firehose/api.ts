/**
 * The Firehose API over HTTP (AWS JSON 1.1: `POST /`, `X-Amz-Target: Firehose_20150804.<Op>`,
 * `Content-Type: application/x-amz-json-1.1`), so the real `@aws-sdk/client-firehose` works locally.
 *
 * Operations: PutRecord, PutRecordBatch, DescribeDeliveryStream, ListDeliveryStreams. Errors are AWS JSON
 * errors (`{"__type": "...", "message": "..."}`): 400 for client errors, 503 for ServiceUnavailableException,
 * 500 for InternalFailure. Request signatures are not checked.
 *
 * Limits (Firehose's): PutRecordBatch 1–500 records (ValidationException), each record's data 1–1,024,000
 * bytes before base64 (ValidationException), 4 MiB of data in all (InvalidArgumentException). The Put APIs
 * are rejected on a stream with a Kinesis source (InvalidArgumentException).
 */
import { randomBytes } from 'node:crypto';
import { type JsonApiServer, startJsonApiServer } from '../private/json-api.ts';
import type { DeliveryStream } from './delivery.ts';

export const TARGET_PREFIX = 'Firehose_20150804.';
export const MAX_BATCH_RECORDS = 500;
export const MAX_RECORD_BYTES = 1_024_000;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Largest request body accepted (4 MiB of data, base64-inflated, plus JSON). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** What the API needs from the local Firehose. */
export interface ApiBackend {
  readonly region: string;
  readonly accountId: string;
  stream(name: string): DeliveryStream | undefined;
  streams(): readonly DeliveryStream[];
  /** Buffers Direct PUT records (arrival = now). */
  accept(stream: DeliveryStream, records: readonly Uint8Array[]): void;
  /** Error code the next record entry must fail with (consumes one injected fault), or `null`. */
  takeFault(): string | null;
}

/** An HTTP response of the API. */
export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

class ApiError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

/** The HTTP status AWS uses for an error code. */
export function statusOf(errorCode: string): number {
  if (errorCode === 'ServiceUnavailableException') return 503;
  if (errorCode === 'InternalFailure') return 500;
  return 400;
}

function errorMessageOf(code: string): string {
  return code === 'ServiceUnavailableException' ? 'Slow down.' : 'Internal service failure.';
}

function recordId(): string {
  return randomBytes(84).toString('base64');
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('SerializationException', 'Request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

function streamOf(backend: ApiBackend, body: Record<string, unknown>): DeliveryStream {
  const name = body.DeliveryStreamName;
  if (typeof name !== 'string' || name.length === 0) {
    throw new ApiError(
      'ValidationException',
      "1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null",
    );
  }
  const stream = backend.stream(name);
  if (!stream) {
    throw new ApiError(
      'ResourceNotFoundException',
      `Firehose ${name} under account ${backend.accountId} not found.`,
    );
  }
  return stream;
}

function putTarget(backend: ApiBackend, body: Record<string, unknown>): DeliveryStream {
  const stream = streamOf(backend, body);
  if (stream.spec.type === 'KinesisStreamAsSource') {
    throw new ApiError(
      'InvalidArgumentException',
      `This operation is not permitted on KinesisStreamAsSource type. Firehose ${stream.spec.name} has a Kinesis stream as its source.`,
    );
  }
  return stream;
}

function decodeData(record: unknown, path: string): Uint8Array {
  const data =
    typeof record === 'object' && record !== null ? (record as { Data?: unknown }).Data : undefined;
  if (typeof data !== 'string') {
    throw new ApiError(
      'ValidationException',
      `1 validation error detected: Value null at '${path}.data' failed to satisfy constraint: Member must not be null`,
    );
  }
  const bytes = Buffer.from(data, 'base64');
  if (bytes.byteLength > MAX_RECORD_BYTES) {
    throw new ApiError(
      'ValidationException',
      `1 validation error detected: Value at '${path}.data' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RECORD_BYTES}; received ${bytes.byteLength} bytes`,
    );
  }
  return bytes;
}

function describe(backend: ApiBackend, stream: DeliveryStream): unknown {
  const { spec } = stream;
  const arn = `arn:aws:firehose:${backend.region}:${backend.accountId}:deliverystream/${spec.name}`;
  const role = `arn:aws:iam::${backend.accountId}:role/${spec.name}-role`;
  const created = spec.createdAtMs / 1000;
  return {
    DeliveryStreamDescription: {
      DeliveryStreamName: spec.name,
      DeliveryStreamARN: arn,
      DeliveryStreamStatus: 'ACTIVE',
      DeliveryStreamType: spec.type,
      DeliveryStreamEncryptionConfiguration: { Status: 'DISABLED' },
      VersionId: '1',
      CreateTimestamp: created,
      ...(spec.type === 'KinesisStreamAsSource'
        ? {
            Source: {
              KinesisStreamSourceDescription: {
                KinesisStreamARN: spec.sourceStreamArn,
                RoleARN: role,
                DeliveryStartTimestamp: created,
              },
            },
          }
        : {}),
      Destinations: [
        {
          DestinationId: 'destinationId-000000000001',
          ExtendedS3DestinationDescription: {
            RoleARN: role,
            BucketARN: `arn:aws:s3:::${spec.bucket}`,
            Prefix: spec.prefixSource,
            ErrorOutputPrefix: spec.errorPrefixSource,
            BufferingHints: { SizeInMBs: spec.hints.sizeMiB, IntervalInSeconds: spec.hints.intervalSeconds },
            CompressionFormat: spec.format === 'json.gz' ? 'GZIP' : 'UNCOMPRESSED',
            EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
            S3BackupMode: 'Disabled',
            ...(spec.format === 'parquet' && spec.table
              ? {
                  DataFormatConversionConfiguration: {
                    Enabled: true,
                    SchemaConfiguration: {
                      DatabaseName: spec.table.databaseName,
                      TableName: spec.table.tableName,
                      Region: spec.table.region,
                      RoleARN: role,
                      VersionId: 'LATEST',
                    },
                    InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: { CaseInsensitive: true } } },
                    OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
                  },
                }
              : {}),
          },
        },
      ],
      HasMoreDestinations: false,
    },
  };
}

/** Handles one API call. Pure apart from the backend it is given. */
export function handleOperation(backend: ApiBackend, operation: string, rawBody: unknown): ApiResponse {
  try {
    const body = asObject(rawBody);
    switch (operation) {
      case 'PutRecord': {
        const stream = putTarget(backend, body);
        const data = decodeData(body.Record, 'record');
        const fault = backend.takeFault();
        if (fault !== null) throw new ApiError(fault, errorMessageOf(fault), statusOf(fault));
        backend.accept(stream, [data]);
        return { status: 200, body: { RecordId: recordId(), Encrypted: false } };
      }
      case 'PutRecordBatch': {
        const stream = putTarget(backend, body);
        const records = body.Records;
        if (!Array.isArray(records) || records.length === 0 || records.length > MAX_BATCH_RECORDS) {
          const n = Array.isArray(records) ? records.length : 0;
          throw new ApiError(
            'ValidationException',
            `1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between 1 and ${MAX_BATCH_RECORDS}; received ${n} records`,
          );
        }
        const decoded = records.map((r, i) => decodeData(r, `records.${i + 1}.member`));
        const total = decoded.reduce((sum, d) => sum + d.byteLength, 0);
        if (total > MAX_BATCH_BYTES) {
          throw new ApiError(
            'InvalidArgumentException',
            `Records size exceeds ${MAX_BATCH_BYTES} bytes (4 MiB) limit; received ${total} bytes`,
          );
        }
        const accepted: Uint8Array[] = [];
        const responses: unknown[] = [];
        let failed = 0;
        for (const data of decoded) {
          const fault = backend.takeFault();
          if (fault === null) {
            accepted.push(data);
            responses.push({ RecordId: recordId() });
          } else {
            failed++;
            responses.push({ ErrorCode: fault, ErrorMessage: errorMessageOf(fault) });
          }
        }
        if (accepted.length > 0) backend.accept(stream, accepted);
        return {
          status: 200,
          body: { FailedPutCount: failed, Encrypted: false, RequestResponses: responses },
        };
      }
      case 'DescribeDeliveryStream':
        return { status: 200, body: describe(backend, streamOf(backend, body)) };
      case 'ListDeliveryStreams': {
        const type = body.DeliveryStreamType;
        const start =
          typeof body.ExclusiveStartDeliveryStreamName === 'string'
            ? body.ExclusiveStartDeliveryStreamName
            : '';
        const limit = typeof body.Limit === 'number' ? body.Limit : 10;
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
          throw new ApiError(
            'ValidationException',
            `1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must be between 1 and 10000`,
          );
        }
        const names = backend
          .streams()
          .filter((s) => type === undefined || s.spec.type === type)
          .map((s) => s.spec.name)
          .filter((n) => n > start)
          .sort();
        return {
          status: 200,
          body: { DeliveryStreamNames: names.slice(0, limit), HasMoreDeliveryStreams: names.length > limit },
        };
      }
      default:
        throw new ApiError(
          'UnknownOperationException',
          `Operation ${operation} is not supported by the local Firehose.`,
        );
    }
  } catch (e) {
    if (e instanceof ApiError) return { status: e.status, body: { __type: e.type, message: e.message } };
    throw e;
  }
}

/** A running API server. */
export type ApiServer = JsonApiServer;

/** Serves the API on 127.0.0.1 (port 0 by default). */
export function startApiServer(backend: ApiBackend, port = 0): Promise<ApiServer> {
  return startJsonApiServer(
    {
      targetPrefix: TARGET_PREFIX,
      maxBodyBytes: MAX_BODY_BYTES,
      messageKey: 'message',
      oversizeErrorType: 'InvalidArgumentException',
      internalErrorType: 'InternalFailure',
      handle: (operation, body) => handleOperation(backend, operation, body),
    },
    port,
  );
}
