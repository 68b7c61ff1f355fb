/**
 * The ingest API's contract with API Gateway and Kinesis, as pure values: the request model (JSON Schema
 * from the envelope limits and the allowed web event types), the mapping templates (request → PutRecords,
 * PutRecords → answer), the CORS origin check, and throttling sized from the stream's write capacity.
 */
import { aws_apigateway as apigw } from 'aws-cdk-lib';
import { LIMITS } from '../../../common/envelope.ts';
import { ConfigError } from '../../../common/errors.ts';
import { INGEST_LIMITS, WEB_SOURCE_PREFIX } from '../../../producers/ingest/body.ts';

/** What the public model accepts beyond the envelope limits. */
export interface WebEventRules {
  /** The only event types accepted. @default any */
  readonly types?: readonly string[];
  /** The mapping prefixes `source` with this, so the source sent is that much shorter. @default '' */
  readonly sourcePrefix?: string;
}

/** JSON Schema (draft 4, what API Gateway models use) of one v1 envelope, from `LIMITS`. */
export function envelopeJsonSchema(rules: WebEventRules = {}): apigw.JsonSchema {
  const name = `^(?!__)[A-Za-z_][A-Za-z0-9_]{0,${LIMITS.maxNameLength - 1}}$`;
  const id = '^[A-Za-z0-9_.:-]+$';
  return {
    type: apigw.JsonSchemaType.OBJECT,
    additionalProperties: false,
    required: ['v', 'eventId', 'source', 'type', 'ts'],
    properties: {
      v: { type: apigw.JsonSchemaType.INTEGER, enum: [1] },
      eventId: {
        type: apigw.JsonSchemaType.STRING,
        minLength: 1,
        maxLength: LIMITS.maxEventIdLength,
        pattern: id,
      },
      source: {
        type: apigw.JsonSchemaType.STRING,
        minLength: 1,
        maxLength: LIMITS.maxSourceLength - (rules.sourcePrefix ?? '').length,
      },
      type: {
        type: apigw.JsonSchemaType.STRING,
        minLength: 1,
        maxLength: LIMITS.maxTypeLength,
        pattern: id,
        ...(rules.types === undefined ? {} : { enum: [...rules.types] }),
      },
      ts: {
        oneOf: [
          {
            type: apigw.JsonSchemaType.STRING,
            pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|\\+00:00)$',
          },
          { type: apigw.JsonSchemaType.INTEGER, minimum: LIMITS.minTsMs, maximum: LIMITS.maxTsMs - 1 },
        ],
      },
      metrics: {
        type: apigw.JsonSchemaType.OBJECT,
        maxProperties: LIMITS.maxMetrics,
        additionalProperties: false,
        patternProperties: {
          [name]: {
            type: apigw.JsonSchemaType.NUMBER,
            minimum: -LIMITS.maxAbsMetric,
            maximum: LIMITS.maxAbsMetric,
          },
        },
      },
      dims: {
        type: apigw.JsonSchemaType.OBJECT,
        maxProperties: LIMITS.maxDims,
        additionalProperties: false,
        patternProperties: {
          [name]: { type: apigw.JsonSchemaType.STRING, maxLength: LIMITS.maxDimValueLength },
        },
      },
    },
  };
}

/** JSON Schema of the request body `{"records":[...]}`, 1–`maxRecords` records. */
export function ingestBodyJsonSchema(
  rules: WebEventRules = {},
  maxRecords: number = INGEST_LIMITS.maxRecords,
): apigw.JsonSchema {
  return {
    schema: apigw.JsonSchemaVersion.DRAFT4,
    title: 'ShardlineIngest',
    type: apigw.JsonSchemaType.OBJECT,
    additionalProperties: false,
    required: ['records'],
    properties: {
      records: {
        type: apigw.JsonSchemaType.ARRAY,
        minItems: 1,
        maxItems: maxRecords,
        items: envelopeJsonSchema(rules),
      },
    },
  };
}

/**
 * Mapping template: `{"records":[...]}` → PutRecords. Every JSON value in the output comes from
 * `$input.json(...)`, which serializes what the validated body holds, so no string the client sends
 * (quotes, apostrophes, backslashes, control characters, `</script>`) can make the request invalid JSON:
 * each record is re-serialized field by field with its `source` prefixed by `sourcePrefix` (the text of
 * the JSON string after its opening quote is appended to the prefix), then base64-encoded; the partition
 * key is that prefixed source.
 */
export function putRecordsTemplate(streamName: string, sourcePrefix: string = WEB_SOURCE_PREFIX): string {
  if (!/^[A-Za-z0-9_.:-]*$/.test(sourcePrefix)) {
    throw new ConfigError(
      `sourcePrefix must match [A-Za-z0-9_.:-]*; received ${JSON.stringify(sourcePrefix)}`,
    );
  }
  // `$q` holds a double quote, so the record's JSON can be assembled in Velocity string literals, which
  // interpolate references but cannot contain a double quote themselves.
  const json = (name: string) => `$input.json("$.records[$i].${name}")`;
  // `${q}` in Velocity (a quote); built so that it is not a JS template placeholder.
  const Q = ['$', '{q}'].join('');
  const key = (name: string) => `${Q}${name}${Q}`;
  return [
    `{"StreamName": "${streamName}", "Records": [`,
    "#set($q = '\"')",
    "#foreach($r in $input.path('$.records'))",
    '#set($i = $foreach.index)',
    `#set($src = ${json('source')})`,
    `#set($source = "${Q}${sourcePrefix}$src.substring(1)")`,
    `#set($eventId = ${json('eventId')})`,
    `#set($type = ${json('type')})`,
    `#set($ts = ${json('ts')})`,
    `#set($data = "{${key('v')}:1,${key('eventId')}:$eventId,${key('source')}:$source,${key('type')}:$type,${key('ts')}:$ts")`,
    `#if($r.metrics)#set($metrics = ${json('metrics')})#set($data = "$data,${key('metrics')}:$metrics")#end`,
    `#if($r.dims)#set($dims = ${json('dims')})#set($data = "$data,${key('dims')}:$dims")#end`,
    '#set($data = "$data}")',
    '  {"Data": "$util.base64Encode($data)", "PartitionKey": $source}#if($foreach.hasNext),#end',
    '#end',
    ']}',
  ].join('\n');
}

/**
 * Response template: `{"accepted":N}`, or status 503 with `Retry-After` and the indices Kinesis refused.
 * Kinesis's per-record error messages are not echoed.
 */
export const PUT_RECORDS_RESPONSE_TEMPLATE = [
  "#set($out = $input.path('$'))",
  '#set($failedCount = $out.FailedRecordCount)',
  '#set($accepted = $out.Records.size() - $failedCount)',
  '#if($failedCount > 0)#set($context.responseOverride.status = 503)#set($context.responseOverride.header.Retry-After = "1")#end',
  '{"accepted": $accepted#if($failedCount > 0), "failed": [#set($sep = "")#foreach($r in $out.Records)#if("$!r.ErrorCode" != "")$sep$foreach.index#set($sep = ",")#end#end], "error": "$failedCount record(s) were not written; resend only those listed in failed"#end}',
].join('\n');

/** Body of a 502 (Kinesis rejected the whole request): no Kinesis text, which names the stream and account. */
export const REJECTED_RESPONSE_BODY =
  '{"error": "the stream rejected the request; the API\'s execution log has the reason"}';
/** Body of a 503 (Kinesis failed or throttled the whole request). */
export const UNAVAILABLE_RESPONSE_BODY = '{"error": "the stream is unavailable; retry with backoff"}';

/**
 * Velocity that names the caller's origin in `Access-Control-Allow-Origin` only when it is one of
 * `origins` (what CDK generates for its CORS preflight with several origins).
 */
export function corsOriginTemplate(origins: readonly string[]): string {
  for (const o of origins) {
    if (!/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(o)) {
      throw new ConfigError(
        `allowOrigins must hold * or origins like https://shop.example.com; received ${JSON.stringify(o)}`,
      );
    }
  }
  return [
    '#set($origin = $input.params().header.get("Origin"))',
    '#if("$!origin" == "")#set($origin = $input.params().header.get("origin"))#end',
    `#if(${origins.map((o) => `$origin == "${o}"`).join(' || ')})#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)#end`,
  ].join('\n');
}

/** The stream's write capacity the ingest limits are sized from. */
export interface StreamCapacity {
  /** PROVISIONED: the shard count; ON_DEMAND: ignored (a new on-demand stream takes 4,000 records/s). */
  readonly shardCount: number;
  readonly mode: 'PROVISIONED' | 'ON_DEMAND';
}

/** Records per second one shard takes (Kinesis quota). */
export const RECORDS_PER_SHARD_SECOND = 1000;
/** Records per second a new on-demand stream takes (Kinesis quota: 4 MB/s or 4,000 records/s). */
export const ON_DEMAND_RECORDS_PER_SECOND = 4000;

/**
 * Stage and usage plan throttling sized so that full requests at the steady rate fit the stream's write
 * capacity: `rateLimit × maxRecordsPerRequest ≤ records/s the stream takes`, burst twice that (at most
 * API Gateway's 5,000).
 */
export function ingestThrottle(
  capacity: StreamCapacity,
  maxRecordsPerRequest: number,
): { rateLimit: number; burstLimit: number } {
  const recordsPerSecond =
    capacity.mode === 'ON_DEMAND'
      ? ON_DEMAND_RECORDS_PER_SECOND
      : capacity.shardCount * RECORDS_PER_SHARD_SECOND;
  const rateLimit = Math.min(10_000, Math.max(1, Math.floor(recordsPerSecond / maxRecordsPerRequest)));
  return { rateLimit, burstLimit: Math.min(5_000, 2 * rateLimit) };
}
