/**
 * A smithy `HttpHandler` that answers the real `@aws-sdk/client-athena` from a queue of recorded responses
 * (JSON bodies shaped exactly like Athena's), so tests exercise the SDK's own serializers, deserializers and
 * retry strategy. No Athena emulator exists; this replays, it does not emulate: each response must be
 * for the operation the client sends next, or the test fails.
 */
import { Readable } from 'node:stream';
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandler } from '@smithy/types';

export interface Recorded {
  /** Operation expected, e.g. `GetQueryExecution` (from the `X-Amz-Target` header). */
  readonly op: string;
  /** HTTP status. @default 200 */
  readonly status?: number;
  /** Error type for a 4xx/5xx (`x-amzn-errortype`), e.g. `TooManyRequestsException`. */
  readonly errorType?: string;
  readonly body: unknown;
}

export interface SentRequest {
  readonly op: string;
  readonly body: Record<string, unknown>;
}

export class RecordedAthena implements RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  readonly sent: SentRequest[] = [];
  private readonly queue: Recorded[];

  constructor(responses: readonly Recorded[]) {
    this.queue = [...responses];
  }

  /** Responses not consumed. */
  get remaining(): number {
    return this.queue.length;
  }

  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const target = String(request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '');
    const op = target.replace(/^AmazonAthena\./, '');
    const raw: unknown = request.body;
    const text =
      typeof raw === 'string' ? raw : raw instanceof Uint8Array ? new TextDecoder().decode(raw) : '';
    this.sent.push({ op, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
    const next = this.queue.shift();
    if (next === undefined) throw new Error(`RecordedAthena: no recorded response left for ${op}`);
    if (next.op !== op) throw new Error(`RecordedAthena: client sent ${op}, recording expects ${next.op}`);
    const status = next.status ?? 200;
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': `req-${this.sent.length}`,
    };
    if (next.errorType) headers['x-amzn-errortype'] = next.errorType;
    return {
      response: {
        statusCode: status,
        headers,
        body: Readable.from([Buffer.from(JSON.stringify(next.body))]),
      },
    };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }
}

/** A GetQueryExecution response body as Athena returns it. */
export function execution(
  id: string,
  state: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED',
  extra: { bytes?: number; reason?: string; statementType?: string; errorCategory?: number } = {},
): Recorded {
  const done = state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED';
  return {
    op: 'GetQueryExecution',
    body: {
      QueryExecution: {
        QueryExecutionId: id,
        Query: 'SELECT ...',
        StatementType: extra.statementType ?? 'DML',
        ResultConfiguration: { OutputLocation: `s3://shardline-athena-results/${id}.csv` },
        ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: false } },
        QueryExecutionContext: { Database: 'shardline', Catalog: 'awsdatacatalog' },
        Status: {
          State: state,
          SubmissionDateTime: 1_795_000_000.123,
          ...(done ? { CompletionDateTime: 1_795_000_004.567 } : {}),
          ...(extra.reason ? { StateChangeReason: extra.reason } : {}),
          ...(extra.errorCategory
            ? {
                AthenaError: {
                  ErrorCategory: extra.errorCategory,
                  ErrorType: 1301,
                  Retryable: false,
                  ErrorMessage: extra.reason,
                },
              }
            : {}),
        },
        Statistics: {
          EngineExecutionTimeInMillis: done ? 3_210 : 0,
          DataScannedInBytes: extra.bytes ?? 0,
          TotalExecutionTimeInMillis: done ? 4_444 : 0,
          QueryQueueTimeInMillis: 120,
          ServicePreProcessingTimeInMillis: 80,
          QueryPlanningTimeInMillis: 300,
          ServiceProcessingTimeInMillis: 34,
          ResultReuseInformation: { ReusedPreviousResult: false },
        },
        WorkGroup: 'shardline',
        EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
        SubstatementType: 'SELECT',
      },
    },
  };
}

/** One ColumnInfo entry as Athena returns it. */
export function column(name: string, type: string) {
  return {
    CatalogName: 'hive',
    SchemaName: '',
    TableName: '',
    Name: name,
    Label: name,
    Type: type,
    Precision: type === 'varchar' ? 2147483647 : 17,
    Scale: 0,
    Nullable: 'UNKNOWN',
    CaseSensitive: type === 'varchar',
  };
}

/** A GetQueryResults page. `rows` are raw strings (null for SQL NULL). */
export function page(
  columns: readonly { Name: string; Type: string }[],
  rows: readonly (readonly (string | null)[])[],
  nextToken?: string,
): Recorded {
  return {
    op: 'GetQueryResults',
    body: {
      UpdateCount: 0,
      ResultSet: {
        Rows: rows.map((r) => ({ Data: r.map((v) => (v === null ? {} : { VarCharValue: v })) })),
        ResultSetMetadata: { ColumnInfo: columns },
      },
      ...(nextToken ? { NextToken: nextToken } : {}),
    },
  };
}
