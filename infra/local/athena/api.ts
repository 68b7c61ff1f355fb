/**
 * The Athena API over HTTP (AWS JSON 1.1: `POST /`, `X-Amz-Target: AmazonAthena.<Op>`), so the real
 * `@aws-sdk/client-athena` talks to the local Athena with only `AWS_ENDPOINT_URL_ATHENA` set.
 *
 * Operations: StartQueryExecution, GetQueryExecution, GetQueryResults, StopQueryExecution, GetWorkGroup,
 * ListNamedQueries, BatchGetNamedQuery, GetNamedQuery. Errors are AWS JSON errors with status 400
 * (`{"__type": "InvalidRequestException", "Message": ..., "AthenaErrorCode": ...}`), as Athena sends them.
 * Request signatures are not checked.
 *
 * GetQueryResults, as Athena documents and does: `MaxResults` 1–1,000 (default 1,000); for a query
 * (statement type DML) the first page's first row is the header row (the column labels) and counts
 * against `MaxResults`; later pages have none; `NextToken` is opaque and present while rows remain.
 */
import { startJsonApiServer } from '../private/json-api.ts';
import { AthenaRequestError, type Execution, type LocalAthena, type NamedQuery } from './service.ts';

export const TARGET_PREFIX = 'AmazonAthena.';
/** Largest `MaxResults` of GetQueryResults. */
export const MAX_RESULTS = 1_000;
const MAX_BODY_BYTES = 1024 * 1024;
/** Longest query string Athena accepts (262,144 bytes). */
const MAX_QUERY_BYTES = 262_144;

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

const invalid = (message: string, code?: string) =>
  new AthenaRequestError('InvalidRequestException', message, code);

function str(body: Record<string, unknown>, key: string, required = true): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) {
    if (!required) return undefined;
    throw invalid(
      `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (typeof v !== 'string') throw invalid(`${key} must be a string; received ${typeof v}`);
  return v;
}

function obj(body: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = body[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function describeExecution(e: Execution): unknown {
  const end = e.completedAt;
  const queue = (e.startedAt ?? end ?? Date.now()) - e.submittedAt;
  const engine = e.startedAt !== undefined && end !== undefined ? end - e.startedAt : undefined;
  return {
    QueryExecutionId: e.id,
    Query: e.sql,
    StatementType: e.statementType,
    ResultConfiguration: { OutputLocation: e.outputLocation },
    QueryExecutionContext: { Database: e.database, Catalog: e.catalog },
    Status: {
      State: e.state,
      SubmissionDateTime: seconds(e.submittedAt),
      ...(end === undefined ? {} : { CompletionDateTime: seconds(end) }),
      ...(e.reason === undefined ? {} : { StateChangeReason: e.reason }),
      ...(e.state === 'FAILED'
        ? { AthenaError: { ErrorCategory: 2, ErrorType: 1000, Retryable: false, ErrorMessage: e.reason } }
        : {}),
    },
    Statistics: {
      EngineExecutionTimeInMillis: engine ?? 0,
      DataScannedInBytes: e.bytesScanned,
      TotalExecutionTimeInMillis: (end ?? Date.now()) - e.submittedAt,
      QueryQueueTimeInMillis: queue,
      ServicePreProcessingTimeInMillis: 0,
      QueryPlanningTimeInMillis: 0,
      ServiceProcessingTimeInMillis: 0,
    },
    WorkGroup: e.workgroup,
    EngineVersion: {
      SelectedEngineVersion: 'AUTO',
      EffectiveEngineVersion: 'Athena engine version 3',
    },
  };
}

function describeNamedQuery(q: NamedQuery): unknown {
  return {
    Name: q.name,
    Description: q.description,
    Database: q.database,
    QueryString: q.sql,
    NamedQueryId: q.id,
    WorkGroup: q.workgroup,
  };
}

function encodeToken(id: string, offset: number): string {
  return Buffer.from(JSON.stringify({ id, offset })).toString('base64url');
}

function decodeToken(token: string, id: string): number {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      id?: unknown;
      offset?: unknown;
    };
    if (t.id === id && typeof t.offset === 'number' && Number.isInteger(t.offset) && t.offset >= 0)
      return t.offset;
  } catch {
    // fall through
  }
  throw invalid('The NextToken is invalid or has expired.', 'INVALID_INPUT');
}

function results(athena: LocalAthena, body: Record<string, unknown>): unknown {
  const id = str(body, 'QueryExecutionId')!;
  const max = body.MaxResults ?? MAX_RESULTS;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
    throw invalid(
      `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1`,
    );
  }
  if (max > MAX_RESULTS) throw invalid(`MaxResults is more than maximum allowed length ${MAX_RESULTS}.`);
  const exec = athena.get(id);
  if (exec.state === 'FAILED') throw invalid(exec.reason ?? 'Query failed', 'INVALID_INPUT');
  if (exec.state === 'CANCELLED')
    throw invalid(`Query was cancelled: ${exec.reason ?? ''}`.trim(), 'INVALID_INPUT');
  if (exec.state !== 'SUCCEEDED' || !exec.result) {
    throw invalid(`Query has not yet finished. Current state: ${exec.state}`, 'INVALID_INPUT');
  }
  const token = str(body, 'NextToken', false);
  const offset = token === undefined ? 0 : decodeToken(token, id);
  const { columns, rows } = exec.result;
  const header = exec.statementType === 'DML' && offset === 0;
  const take = max - (header ? 1 : 0);
  const page = rows.slice(offset, offset + take);
  const next = offset + page.length;
  const datum = (v: string | undefined) => (v === undefined ? {} : { VarCharValue: v });
  return {
    UpdateCount: 0,
    ResultSet: {
      Rows: [
        ...(header ? [{ Data: columns.map((c) => ({ VarCharValue: c.Name })) }] : []),
        ...page.map((r) => ({ Data: r.map(datum) })),
      ],
      ResultSetMetadata: { ColumnInfo: columns },
    },
    ...(next < rows.length ? { NextToken: encodeToken(id, next) } : {}),
  };
}

function paged<T>(items: readonly T[], body: Record<string, unknown>, limit: number, name: string) {
  const max = body.MaxResults ?? limit;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > limit) {
    throw invalid(
      `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${limit}`,
    );
  }
  const token = str(body, 'NextToken', false);
  const offset = token === undefined ? 0 : decodeToken(token, name);
  const page = items.slice(offset, offset + (max === 0 ? limit : max));
  const next = offset + page.length;
  return { page, ...(next < items.length ? { NextToken: encodeToken(name, next) } : {}) };
}

/** Handles one API call against the local Athena. */
export function handleOperation(athena: LocalAthena, operation: string, raw: unknown): ApiResponse {
  try {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new AthenaRequestError('SerializationException', 'Request body must be a JSON object.');
    }
    const body = raw as Record<string, unknown>;
    switch (operation) {
      case 'StartQueryExecution': {
        const sql = str(body, 'QueryString')!;
        if (sql.trim().length === 0 || Buffer.byteLength(sql) > MAX_QUERY_BYTES) {
          throw invalid(
            `1 validation error detected: Value at 'queryString' failed to satisfy constraint: Member must have length between 1 and ${MAX_QUERY_BYTES}`,
          );
        }
        const ctx = obj(body, 'QueryExecutionContext');
        const id = athena.start({
          sql,
          database: typeof ctx.Database === 'string' ? ctx.Database : 'default',
          catalog: typeof ctx.Catalog === 'string' ? ctx.Catalog : 'AwsDataCatalog',
          workgroup: str(body, 'WorkGroup', false) ?? 'primary',
          outputLocation: (() => {
            const loc = obj(body, 'ResultConfiguration').OutputLocation;
            return typeof loc === 'string' ? loc : undefined;
          })(),
          clientRequestToken: str(body, 'ClientRequestToken', false),
        });
        return { status: 200, body: { QueryExecutionId: id } };
      }
      case 'GetQueryExecution':
        return {
          status: 200,
          body: { QueryExecution: describeExecution(athena.get(str(body, 'QueryExecutionId')!)) },
        };
      case 'GetQueryResults':
        return { status: 200, body: results(athena, body) };
      case 'StopQueryExecution':
        athena.stop(str(body, 'QueryExecutionId')!);
        return { status: 200, body: {} };
      case 'GetWorkGroup': {
        const wg = athena.workgroup(str(body, 'WorkGroup')!);
        return {
          status: 200,
          body: {
            WorkGroup: {
              Name: wg.name,
              State: 'ENABLED',
              Description: wg.name === 'primary' ? '' : 'Shardline queries (local Athena)',
              CreationTime: 0,
              Configuration: {
                ResultConfiguration: { OutputLocation: wg.outputLocation },
                EnforceWorkGroupConfiguration: wg.name !== 'primary',
                PublishCloudWatchMetricsEnabled: true,
                RequesterPaysEnabled: false,
                ...(wg.bytesScannedCutoffPerQuery === null
                  ? {}
                  : { BytesScannedCutoffPerQuery: wg.bytesScannedCutoffPerQuery }),
                EngineVersion: {
                  SelectedEngineVersion: 'AUTO',
                  EffectiveEngineVersion: 'Athena engine version 3',
                },
              },
            },
          },
        };
      }
      case 'ListNamedQueries': {
        const wg = str(body, 'WorkGroup', false) ?? 'primary';
        athena.workgroup(wg);
        const ids = athena.namedQueries.filter((q) => q.workgroup === wg).map((q) => q.id);
        const { page, ...rest } = paged(ids, body, 50, `named:${wg}`);
        return { status: 200, body: { NamedQueryIds: page, ...rest } };
      }
      case 'BatchGetNamedQuery': {
        const ids = body.NamedQueryIds;
        if (!Array.isArray(ids) || ids.length < 1 || ids.length > 50) {
          throw invalid(
            `1 validation error detected: Value at 'namedQueryIds' failed to satisfy constraint: Member must have length between 1 and 50`,
          );
        }
        const found: unknown[] = [];
        const missing: unknown[] = [];
        for (const id of ids) {
          const q = athena.namedQueries.find((n) => n.id === id);
          if (q) found.push(describeNamedQuery(q));
          else
            missing.push({
              NamedQueryId: String(id),
              ErrorCode: 'INVALID_INPUT',
              ErrorMessage: `NamedQuery ${String(id)} was not found`,
            });
        }
        return { status: 200, body: { NamedQueries: found, UnprocessedNamedQueryIds: missing } };
      }
      case 'GetNamedQuery': {
        const id = str(body, 'NamedQueryId')!;
        const q = athena.namedQueries.find((n) => n.id === id);
        if (!q) throw invalid(`NamedQuery ${id} was not found`, 'INVALID_INPUT');
        return { status: 200, body: { NamedQuery: describeNamedQuery(q) } };
      }
      default:
        throw new AthenaRequestError(
          'UnknownOperationException',
          `Operation ${operation} is not supported by the local Athena.`,
        );
    }
  } catch (e) {
    if (e instanceof AthenaRequestError) {
      return {
        status: 400,
        body: {
          __type: e.type,
          Message: e.message,
          ...(e.athenaErrorCode === undefined ? {} : { AthenaErrorCode: e.athenaErrorCode }),
        },
      };
    }
    throw e;
  }
}

export interface AthenaServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Serves the API on 127.0.0.1 (port 0: a free one). */
export async function startAthenaServer(athena: LocalAthena, port = 0): Promise<AthenaServer> {
  const server = await startJsonApiServer(
    {
      targetPrefix: TARGET_PREFIX,
      maxBodyBytes: MAX_BODY_BYTES,
      messageKey: 'Message',
      oversizeErrorType: 'InvalidRequestException',
      internalErrorType: 'InternalServerException',
      handle: (operation, body) => handleOperation(athena, operation, body),
    },
    port,
  );
  return {
    endpoint: server.endpoint,
    close: async () => {
      await server.close();
      await athena.idle();
    },
  };
}
