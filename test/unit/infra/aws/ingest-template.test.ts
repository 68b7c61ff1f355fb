/**
 * The ingest API's mapping templates, rendered by a real Velocity engine with API Gateway's `$input` and
 * `$util` (test/helpers/vtl.ts), on hostile strings: the PutRecords request must be valid JSON whatever the
 * client sends, carry exactly what the local endpoint writes, and the answers must not leak Kinesis text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../common/config.ts';
import {
  corsOriginTemplate,
  PUT_RECORDS_RESPONSE_TEMPLATE,
  putRecordsTemplate,
  REJECTED_RESPONSE_BODY,
  UNAVAILABLE_RESPONSE_BODY,
} from '../../../../infra/aws/lib/ingest.ts';
import { parseIngestBody, webIngestPolicy } from '../../../../producers/ingest/index.ts';
import { escapeJavaScript, renderMappingTemplate } from '../../../helpers/vtl.ts';

const HOSTILE = [
  "it's",
  'say "hi"',
  'back\\slash',
  '</script><script>alert(1)</script>',
  'line\nbreak\ttab\r\u0000\u001f',
  '\u2028\u2029',
  'é 😀 中文',
  `$input.json("$") #set($x = 1) $${'{q}'}`,
  '{"injected": true}',
  '\\"',
  "'",
];

interface PutRecordsRequest {
  StreamName: string;
  Records: { Data: string; PartitionKey: string }[];
}

const record = (i: number, source: string, extra: Record<string, unknown> = {}) => ({
  v: 1,
  eventId: `e-${i}`,
  source,
  type: 'click',
  ts: 1767225600000 + i,
  ...extra,
});

/** Renders the request template for `records` and parses the PutRecords request it produces. */
function putRecordsFor(records: unknown[]): PutRecordsRequest {
  const { output } = renderMappingTemplate(putRecordsTemplate('events'), { records });
  return JSON.parse(output) as PutRecordsRequest;
}
const decode = (data: string) => JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as unknown;

// Characters that break naive templates, mixed with arbitrary code points.
const arbHostile = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      '"',
      "'",
      '\\',
      '/',
      '<',
      '>',
      '\n',
      '\r',
      '\u0000',
      '\u2028',
      '$',
      '#',
      '{',
      '}',
      '😀',
      'é',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  minLength: 1,
  maxLength: 40,
});

describe('putRecordsTemplate (rendered by Velocity)', () => {
  it('builds valid JSON, web:-namespaced sources and keys, for hostile strings', () => {
    const records = HOSTILE.map((source, i) =>
      record(i, source, { metrics: { x: 1.5, y: -2 }, dims: { page: source, quote: "'" } }),
    );
    const request = putRecordsFor(records);
    expect(request.StreamName).toBe('events');
    expect(request.Records).toHaveLength(records.length);
    request.Records.forEach((r, i) => {
      expect(r.PartitionKey).toBe(`web:${HOSTILE[i]}`);
      expect(decode(r.Data)).toEqual({ ...records[i], source: `web:${HOSTILE[i]}` });
    });
  });

  it('keeps optional fields out when absent, and ISO timestamps as strings', () => {
    const request = putRecordsFor([record(1, 's', { ts: '2026-01-01T00:00:00.000Z' })]);
    expect(decode(request.Records[0]!.Data)).toEqual({
      v: 1,
      eventId: 'e-1',
      source: 'web:s',
      type: 'click',
      ts: '2026-01-01T00:00:00.000Z',
    });
  });

  it('writes exactly what the local endpoint writes, for any source and dims (property)', () => {
    const policy = webIngestPolicy(resolveConfig().ingest);
    fc.assert(
      fc.property(fc.array(fc.tuple(arbHostile, arbHostile), { minLength: 1, maxLength: 5 }), (pairs) => {
        const records = pairs.map(([source, dim], i) => record(i, source, { dims: { d: dim } }));
        const request = putRecordsFor(records);
        const local = parseIngestBody(JSON.stringify({ records }), policy);
        expect(local.ok).toBe(true);
        if (!local.ok) return;
        expect(request.Records.map((r) => r.PartitionKey)).toEqual(local.records.map((r) => r.partitionKey));
        expect(request.Records.map((r) => decode(r.Data))).toEqual(
          local.records.map((r) => JSON.parse(new TextDecoder().decode(r.data)) as unknown),
        );
      }),
    );
  });

  it('is what a template built with $util.escapeJavaScript is not: valid on an apostrophe', () => {
    // The helper escapes as API Gateway does; this is the template the endpoint used to have.
    expect(escapeJavaScript("it's")).toBe("it\\'s");
    const naive = [
      '{"Records": [',
      "#foreach($r in $input.path('$.records'))",
      '{"PartitionKey": "$util.escapeJavaScript($r.source)"}#if($foreach.hasNext),#end',
      '#end',
      ']}',
    ].join('\n');
    const { output } = renderMappingTemplate(naive, { records: [record(1, "it's")] });
    expect(() => JSON.parse(output)).toThrow(SyntaxError);
  });
});

describe('PUT_RECORDS_RESPONSE_TEMPLATE (rendered by Velocity)', () => {
  const ok = { SequenceNumber: '1', ShardId: 'shardId-000000000000' };
  const refused = {
    ErrorCode: 'ProvisionedThroughputExceededException',
    ErrorMessage: 'Rate exceeded for shard shardId-000000000000 in stream events under account 123456789012.',
  };

  it('answers {"accepted":N} when every record was written', () => {
    const r = renderMappingTemplate(PUT_RECORDS_RESPONSE_TEMPLATE, {
      FailedRecordCount: 0,
      Records: [ok, ok],
    });
    expect(JSON.parse(r.output)).toEqual({ accepted: 2 });
    expect(r.responseOverride).toEqual({ header: {} });
  });

  it('answers 503 with Retry-After and the refused indices, without Kinesis text', () => {
    const r = renderMappingTemplate(PUT_RECORDS_RESPONSE_TEMPLATE, {
      FailedRecordCount: 2,
      Records: [refused, ok, refused],
    });
    const body = JSON.parse(r.output) as { accepted: number; failed: number[]; error: string };
    expect(body).toMatchObject({ accepted: 1, failed: [0, 2] });
    expect(r.responseOverride).toEqual({ status: 503, header: { 'Retry-After': '1' } });
    expect(r.output).not.toMatch(/123456789012|stream events|Rate exceeded/);
  });

  it('has fixed 502/503 bodies that are valid JSON and echo nothing', () => {
    expect(JSON.parse(REJECTED_RESPONSE_BODY)).toHaveProperty('error');
    expect(JSON.parse(UNAVAILABLE_RESPONSE_BODY)).toHaveProperty('error');
    expect(REJECTED_RESPONSE_BODY + UNAVAILABLE_RESPONSE_BODY).not.toContain('$input');
  });
});

describe('corsOriginTemplate (rendered by Velocity)', () => {
  const template = corsOriginTemplate(['https://shop.example.com', 'http://localhost:8080']);
  const allowOrigin = (origin: string | undefined, header = 'Origin') =>
    renderMappingTemplate(template, {}, origin === undefined ? {} : { [header]: origin }).responseOverride
      .header['Access-Control-Allow-Origin'];

  it('names the caller origin only when it is configured', () => {
    expect(allowOrigin('https://shop.example.com')).toBe('https://shop.example.com');
    expect(allowOrigin('http://localhost:8080', 'origin')).toBe('http://localhost:8080');
    expect(allowOrigin('https://evil.example.com')).toBeUndefined();
    expect(allowOrigin('https://shop.example.com.evil.com')).toBeUndefined();
    expect(allowOrigin(undefined)).toBeUndefined();
  });

  it('rejects an origin that could break the template', () => {
    expect(() => corsOriginTemplate(['https://a.com" || true'])).toThrow(/allowOrigins must hold/);
  });
});
