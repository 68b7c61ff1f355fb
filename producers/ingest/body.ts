/**
 * Parsing and validating an ingest request body, `{"records":[envelope, ...]}`. Pure: bytes in, outcome out.
 *
 * **All or nothing.** If any record is invalid the whole request is rejected (HTTP 400) and nothing is
 * written, so a client can fix the batch and resend it without creating duplicates. The error names every
 * offending record (index), field and the value received. API Gateway's request validation behaves the
 * same way on AWS, so clients see one contract on both targets.
 */
import { EnvelopeSchema, LIMITS, validateEnvelope } from '../../common/envelope.ts';
import { describeValue, formatPath } from '../../common/errors.ts';
import { WEB_SOURCE_PREFIX } from '../../common/limits.ts';

/** Hard limits of one ingest request, on every endpoint whatever the config. */
export const INGEST_LIMITS = {
  /** Records per request: PutRecords takes at most 500 (`ingest.maxRecordsPerRequest` lowers it). */
  maxRecords: 500,
  /**
   * Request body size in bytes: 10 MiB, API Gateway's REST payload limit (it answers 413 beyond it). What
   * reaches Kinesis is far smaller: at most `maxRecords` records of at most 32 KiB of JSON each.
   */
  maxBodyBytes: 10 * 1024 * 1024,
  /** Problems listed in one 400 response; the rest are counted. */
  maxProblems: 20,
} as const;

export { WEB_SOURCE_PREFIX };

/**
 * What the public ingest endpoint accepts beyond the envelope schema (from the config's `ingest`
 * section); API Gateway's model and mapping template apply the same rules on AWS.
 */
export interface IngestPolicy {
  /** Records per request, 1–500. @default 500 */
  readonly maxRecords?: number;
  /** The only event types accepted. @default any type */
  readonly allowedTypes?: readonly string[];
  /**
   * Prepended to every record's `source`, in the data written and in the partition key; the source as
   * sent may then be at most `LIMITS.maxSourceLength` minus its length. @default '' (none)
   */
  readonly sourcePrefix?: string;
}

/** The policy of the public endpoint for a config's `ingest` section. */
export function webIngestPolicy(ingest: {
  readonly maxRecordsPerRequest: number;
  readonly webEventTypes: readonly string[];
}): Required<IngestPolicy> {
  return {
    maxRecords: ingest.maxRecordsPerRequest,
    allowedTypes: ingest.webEventTypes,
    sourcePrefix: WEB_SOURCE_PREFIX,
  };
}

/** One record ready for Kinesis: its JSON text as received (re-serialized) and its partition key. */
export interface IngestRecord {
  /** Position in the request's `records` array. */
  readonly index: number;
  /** The envelope as JSON, its `source` prefixed by the policy's `sourcePrefix`. */
  readonly data: Uint8Array;
  /** The envelope's (prefixed) `source`. */
  readonly partitionKey: string;
}

/** One reason a request was rejected. */
export interface IngestProblem {
  /** Index in `records`, or null for a problem with the body itself. */
  readonly index: number | null;
  /** Path of the offending field, e.g. `records[3].metrics.temp`. */
  readonly path: string;
  /** The rule broken and the value received. */
  readonly message: string;
}

export type ParseOutcome =
  | { readonly ok: true; readonly records: readonly IngestRecord[] }
  | {
      readonly ok: false;
      /** 400 for a malformed or invalid body, 413 for one over {@link INGEST_LIMITS}.maxBodyBytes. */
      readonly status: 400 | 413;
      /** One line naming the problem(s), for humans. */
      readonly error: string;
      readonly problems: readonly IngestProblem[];
    };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function reject(status: 400 | 413, problems: IngestProblem[], extra = 0): ParseOutcome {
  const first = problems
    .slice(0, 3)
    .map((p) => `${p.path}: ${p.message}`)
    .join('; ');
  const more = problems.length + extra - Math.min(problems.length, 3);
  return {
    ok: false,
    status,
    error: more > 0 ? `${first}; and ${more} more problem(s)` : first,
    problems,
  };
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** Every schema problem of one record, each with the value received. */
function recordProblems(index: number, record: unknown): IngestProblem[] {
  const prefix = `records[${index}]`;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return [
      { index, path: prefix, message: `must be an envelope object; received ${describeValue(record)}` },
    ];
  }
  const parsed = EnvelopeSchema.safeParse(record);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => {
    const field = formatPath(issue.path);
    // zod's invalid_type messages already name what was received.
    const received =
      issue.code === 'unrecognized_keys' || /\breceived\b/.test(issue.message)
        ? ''
        : `; received ${describeValue(valueAt(record, issue.path))}`;
    return {
      index,
      path: field === '(root)' ? prefix : `${prefix}.${field}`,
      message: `${issue.message}${received}`,
    };
  });
}

/**
 * Parses and validates a request body.
 *
 * @example
 * ```ts
 * const out = parseIngestBody('{"records":[{"v":1,"eventId":"e1","source":"s","type":"click","ts":1767225600000}]}');
 * if (!out.ok) respond(out.status, { error: out.error, problems: out.problems });
 * ```
 */
export function parseIngestBody(body: Uint8Array | string, policy: IngestPolicy = {}): ParseOutcome {
  const maxRecords = policy.maxRecords ?? INGEST_LIMITS.maxRecords;
  const prefix = policy.sourcePrefix ?? '';
  const allowedTypes = policy.allowedTypes === undefined ? undefined : new Set(policy.allowedTypes);
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  if (bytes.byteLength > INGEST_LIMITS.maxBodyBytes) {
    return reject(413, [
      {
        index: null,
        path: 'body',
        message: `must be at most ${INGEST_LIMITS.maxBodyBytes} bytes; received ${bytes.byteLength}`,
      },
    ]);
  }
  let text: string;
  try {
    text = typeof body === 'string' ? body : decoder.decode(bytes);
  } catch {
    return reject(400, [{ index: null, path: 'body', message: 'must be UTF-8 text' }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return reject(400, [
      {
        index: null,
        path: 'body',
        message: `is not valid JSON (${(err as Error).message}); expected {"records":[envelope, ...]}; received ${describeValue(text)}`,
      },
    ]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject(400, [
      {
        index: null,
        path: 'body',
        message: `must be a JSON object {"records":[...]}; received ${describeValue(value)}`,
      },
    ]);
  }
  const extra = Object.keys(value).filter((k) => k !== 'records');
  if (extra.length > 0) {
    return reject(400, [
      {
        index: null,
        path: 'body',
        message: `may only have the key "records"; received ${extra.map((k) => JSON.stringify(k)).join(', ')}`,
      },
    ]);
  }
  const records = (value as { records?: unknown }).records;
  if (!Array.isArray(records)) {
    return reject(400, [
      {
        index: null,
        path: 'records',
        message: `must be an array of envelopes; received ${describeValue(records)}`,
      },
    ]);
  }
  if (records.length < 1 || records.length > maxRecords) {
    return reject(400, [
      {
        index: null,
        path: 'records',
        message: `must hold between 1 and ${maxRecords} records; received ${records.length}`,
      },
    ]);
  }
  const problems: IngestProblem[] = [];
  let unlisted = 0;
  const out: IngestRecord[] = [];
  records.forEach((record: unknown, index) => {
    const add = (found: IngestProblem[]) => {
      for (const p of found) {
        if (problems.length < INGEST_LIMITS.maxProblems) problems.push(p);
        else unlisted++;
      }
    };
    const valid = validateEnvelope(record);
    if (!valid.ok) {
      const found = recordProblems(index, record);
      add(
        found.length > 0
          ? found
          : [{ index, path: `records[${index}]`, message: `${valid.reason}: ${valid.detail}` }],
      );
      return;
    }
    const { type, source } = valid.event;
    const policyProblems: IngestProblem[] = [];
    if (allowedTypes !== undefined && !allowedTypes.has(type)) {
      policyProblems.push({
        index,
        path: `records[${index}].type`,
        message: `must be one of ${[...allowedTypes].join(', ')}; received ${describeValue(type)}`,
      });
    }
    if (prefix.length + source.length > LIMITS.maxSourceLength) {
      policyProblems.push({
        index,
        path: `records[${index}].source`,
        message: `must be at most ${LIMITS.maxSourceLength - prefix.length} characters (the endpoint prefixes "${prefix}"); received ${source.length}`,
      });
    }
    if (policyProblems.length > 0) {
      add(policyProblems);
      return;
    }
    const stored = prefix === '' ? record : { ...(record as object), source: prefix + source };
    const data = encoder.encode(JSON.stringify(stored));
    if (data.byteLength > LIMITS.maxEventBytes) {
      add([
        {
          index,
          path: `records[${index}]`,
          message: `must encode to at most ${LIMITS.maxEventBytes} bytes of JSON; received ${data.byteLength}`,
        },
      ]);
      return;
    }
    out.push({ index, data, partitionKey: prefix + source });
  });
  if (problems.length > 0) return reject(400, problems, unlisted);
  return { ok: true, records: out };
}
