import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, aws_kinesis as kinesis, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../../../common/envelope.ts';
import { ConfigError } from '../../../../common/errors.ts';
import {
  envelopeJsonSchema,
  IngestApi,
  ingestBodyJsonSchema,
  ingestThrottle,
  PUT_RECORDS_RESPONSE_TEMPLATE,
  putRecordsTemplate,
} from '../../../../infra/aws/lib/ingest.ts';
import { readNagReport, registerNag } from '../../../../infra/aws/lib/nag.ts';
import { INGEST_LIMITS } from '../../../../producers/ingest/body.ts';

const outdir = mkdtempSync(join(tmpdir(), 'ingest-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

// GIVEN a stack holding only a stream and the ingest API, with the cdk-nag AwsSolutions checks registered.
const app = new App({ outdir });
const stack = new Stack(app, 'IngestTest', { env: { region: 'eu-west-1', account: '123456789012' } });
const stream = new kinesis.Stream(stack, 'Stream', {
  streamName: 'events',
  shardCount: 2,
  encryption: kinesis.StreamEncryption.MANAGED,
});
new IngestApi(stack, 'Ingest', { stream, rateLimit: 250, burstLimit: 500 });
registerNag(app);
app.synth(); // throws on an unacknowledged cdk-nag error; warnings are checked in the report below
const template = Template.fromStack(stack);

describe('IngestApi', () => {
  it('leaves no unacknowledged cdk-nag finding, warnings included', () => {
    expect(readNagReport(outdir).violations).toEqual([]);
  });

  it('integrates POST /ingest directly with Kinesis PutRecords, API key required, body validated', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      ApiKeyRequired: true,
      RequestValidatorId: Match.anyValue(),
      RequestModels: { 'application/json': Match.anyValue() },
      Integration: Match.objectLike({
        Type: 'AWS',
        IntegrationHttpMethod: 'POST',
        PassthroughBehavior: 'NEVER',
        Uri: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':kinesis:action/PutRecords')])] },
        // The stream name is a token (Ref), so the template is an Fn::Join around it.
        RequestTemplates: {
          'application/json': { 'Fn::Join': ['', Match.arrayWith([{ Ref: Match.anyValue() }])] },
        },
      }),
    });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true });
  });

  it('gives the integration role exactly kinesis:PutRecords on the stream', () => {
    const policies = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: { PolicyName: Match.stringLikeRegexp('IngestRole') },
      }),
    ) as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Action).toBe('kinesis:PutRecords');
    expect(statements[0]!.Resource).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(stream.node.defaultChild as kinesis.CfnStream), 'Arn'],
    });
  });

  it('throttles through a usage plan bound to the stage and the API key', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 250, BurstLimit: 500 },
      ApiStages: [Match.objectLike({ Stage: Match.anyValue() })],
    });
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 250, ThrottlingBurstLimit: 500 })],
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('answers CORS preflights and puts CORS headers on validation errors', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'OPTIONS',
      Integration: Match.objectLike({
        IntegrationResponses: [
          Match.objectLike({
            ResponseParameters: Match.objectLike({
              'method.response.header.Access-Control-Allow-Headers': "'Content-Type,X-Api-Key'",
              'method.response.header.Access-Control-Allow-Origin': "'*'",
            }),
          }),
        ],
      }),
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'" },
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('validationErrorString') },
    });
  });

  it('generates the request model from the envelope limits', () => {
    const models = template.findResources('AWS::ApiGateway::Model');
    const schemas = Object.values(models).map(
      (m) => (m as { Properties: { Schema: unknown } }).Properties.Schema,
    );
    expect(schemas).toHaveLength(1);
    const body = schemas[0] as {
      properties: { records: { maxItems: number; minItems: number; items: Record<string, unknown> } };
    };
    // the default browser batch, below PutRecords' 500
    expect(body.properties.records.maxItems).toBe(100);
    expect(body.properties.records.maxItems).toBeLessThanOrEqual(INGEST_LIMITS.maxRecords);
    expect(body.properties.records.minItems).toBe(1);
    // only the allowed web event types, and room for the web: prefix in the source
    expect(body.properties.records.items['properties']).toMatchObject({
      type: { enum: ['pageview', 'click', 'purchase'] },
      source: { maxLength: LIMITS.maxSourceLength - 'web:'.length },
    });
    const env = envelopeJsonSchema() as {
      properties: Record<string, { maxLength?: number; maxProperties?: number }>;
      required: string[];
    };
    expect(env.properties.eventId?.maxLength).toBe(LIMITS.maxEventIdLength);
    expect(env.properties.source?.maxLength).toBe(LIMITS.maxSourceLength);
    expect(env.properties.type?.maxLength).toBe(LIMITS.maxTypeLength);
    expect(env.properties.metrics?.maxProperties).toBe(LIMITS.maxMetrics);
    expect(env.properties.dims?.maxProperties).toBe(LIMITS.maxDims);
    expect(env.required).toEqual(['v', 'eventId', 'source', 'type', 'ts']);
    expect(ingestBodyJsonSchema().additionalProperties).toBe(false);
  });

  it('builds every JSON value of the PutRecords request with $input.json, PartitionKey included', () => {
    const t = putRecordsTemplate('events');
    expect(t).toContain('"StreamName": "events"');
    expect(t).toContain('#set($src = $input.json("$.records[$i].source"))');
    expect(t).toContain('"PartitionKey": $source}');
    expect(t).not.toContain('escapeJavaScript');
    // and so does the deployed one (the stream name is a Ref inside an Fn::Join)
    const method = Object.values(template.findResources('AWS::ApiGateway::Method')).find(
      (m) => (m as { Properties: { HttpMethod: string } }).Properties.HttpMethod === 'POST',
    );
    const deployed = JSON.stringify(method);
    expect(deployed).toContain('$input.json(\\"$.records[$i].source\\")');
    expect(deployed).not.toContain('escapeJavaScript');
    expect(PUT_RECORDS_RESPONSE_TEMPLATE).toContain('$context.responseOverride.status = 503');
    expect(PUT_RECORDS_RESPONSE_TEMPLATE).toContain('"accepted": $accepted');
  });

  it("answers 502 without Kinesis's text and 503 with Retry-After", () => {
    const method = template.findResources('AWS::ApiGateway::Method', {
      Properties: { HttpMethod: 'POST' },
    });
    const responses = (
      Object.values(method)[0] as {
        Properties: {
          Integration: {
            IntegrationResponses: {
              StatusCode: string;
              ResponseParameters: Record<string, string>;
              ResponseTemplates: Record<string, string>;
            }[];
          };
        };
      }
    ).Properties.Integration.IntegrationResponses;
    const byStatus = Object.fromEntries(responses.map((r) => [r.StatusCode, r]));
    expect(byStatus['502']!.ResponseTemplates['application/json']).not.toContain('$input');
    expect(byStatus['503']!.ResponseParameters['method.response.header.Retry-After']).toBe("'1'");
    expect(byStatus['200']!.ResponseTemplates['application/json']).toContain('Retry-After = "1"');
  });

  it('sizes throttling from the stream capacity: full requests at the steady rate fit it', () => {
    // Kinesis takes 1,000 records/s per shard; a new on-demand stream 4,000.
    expect(ingestThrottle({ shardCount: 4, mode: 'PROVISIONED' }, 100)).toEqual({
      rateLimit: 40,
      burstLimit: 80,
    });
    expect(ingestThrottle({ shardCount: 1, mode: 'PROVISIONED' }, 500)).toEqual({
      rateLimit: 2,
      burstLimit: 4,
    });
    expect(ingestThrottle({ shardCount: 99, mode: 'ON_DEMAND' }, 100)).toEqual({
      rateLimit: 40,
      burstLimit: 80,
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 500 }),
        (shards, perRequest) => {
          const { rateLimit, burstLimit } = ingestThrottle(
            { shardCount: shards, mode: 'PROVISIONED' },
            perRequest,
          );
          expect(rateLimit).toBeGreaterThanOrEqual(1);
          if (perRequest <= shards * 1000) expect(rateLimit * perRequest).toBeLessThanOrEqual(shards * 1000);
          expect(burstLimit).toBeLessThanOrEqual(5000);
          expect(burstLimit).toBeGreaterThanOrEqual(Math.min(rateLimit, 5000));
        },
      ),
    );
  });

  it('caps the API key per day with a usage plan quota', () => {
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Quota: { Limit: 1_000_000, Period: 'DAY' },
    });
  });

  it('names only configured origins: one statically, several by checking the caller', () => {
    // GIVEN an API for one origin and one for two
    const s = new Stack(new App(), 'Cors', { env: { region: 'eu-west-1', account: '123456789012' } });
    const st = new kinesis.Stream(s, 'S', { shardCount: 1, encryption: kinesis.StreamEncryption.MANAGED });
    new IngestApi(s, 'One', { stream: st, allowOrigins: ['https://shop.example.com'] });
    new IngestApi(s, 'Two', { stream: st, allowOrigins: ['https://a.example.com', 'https://b.example.com'] });
    const t = JSON.stringify(Template.fromStack(s).toJSON());
    // THEN no response allows any origin, the single one is static, the pair is checked in Velocity
    expect(t).not.toContain("'*'");
    expect(t).toContain("'https://shop.example.com'");
    expect(t).toContain('$origin == \\"https://a.example.com\\" || $origin == \\"https://b.example.com\\"');
  });

  it('rejects throttling settings out of range, naming the value', () => {
    const s = new Stack(new App(), 'Bad');
    const st = new kinesis.Stream(s, 'S', { shardCount: 1 });
    expect(() => new IngestApi(s, 'I', { stream: st, rateLimit: 0 })).toThrow(ConfigError);
    expect(() => new IngestApi(s, 'J', { stream: st, burstLimit: 9999 })).toThrow(
      'burstLimit must be an integer between 1 and 5000; received 9999',
    );
  });
});
