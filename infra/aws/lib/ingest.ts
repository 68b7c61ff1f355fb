/**
 * The ingest endpoint on AWS: an API Gateway REST API whose `POST /ingest` is an AWS service integration
 * calling Kinesis PutRecords directly (no Lambda). Same contract as the local endpoint
 * (`producers/ingest/handler.ts`): body `{"records":[envelope,...]}`, 1–500 records, validated against a JSON
 * Schema model generated from the envelope limits (an invalid request is rejected whole with 400 naming
 * the problem), partition key = `source`, answer `{"accepted":N}`, or 503 `{"accepted","failed":[i...]}`
 * when Kinesis refused some entries. An API key and a usage plan throttle it; CORS lets browsers call it.
 */
import {
  aws_apigateway as apigw,
  Duration,
  aws_iam as iam,
  type aws_kinesis as kinesis,
  aws_logs as logs,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { LIMITS } from '../../../common/envelope.ts';
import { ConfigError } from '../../../common/errors.ts';
import { INGEST_LIMITS } from '../../../producers/ingest/body.ts';

export interface IngestApiProps {
  /** The stream records go to. */
  readonly stream: kinesis.IStream;
  /** Steady-state requests per second of the usage plan, 1–10,000. @default 100 */
  readonly rateLimit?: number;
  /** Burst of requests of the usage plan, 1–5,000. @default 200 */
  readonly burstLimit?: number;
  /** CORS allowed origins. @default all origins (`*`) */
  readonly allowOrigins?: readonly string[];
  /** Stage name. @default 'prod' */
  readonly stageName?: string;
  /** Access log retention. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the access log group. @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** JSON Schema (draft 4, what API Gateway models use) of one v1 envelope, from `LIMITS`. */
export function envelopeJsonSchema(): apigw.JsonSchema {
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
      source: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: LIMITS.maxSourceLength },
      type: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: LIMITS.maxTypeLength, pattern: id },
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

/** JSON Schema of the request body `{"records":[...]}`. */
export function ingestBodyJsonSchema(): apigw.JsonSchema {
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
        maxItems: INGEST_LIMITS.maxRecords,
        items: envelopeJsonSchema(),
      },
    },
  };
}

/**
 * Mapping template: `{"records":[...]}` → PutRecords; each record's JSON re-serialized by
 * `$input.json` and base64-encoded, partition key = `source`.
 */
export function putRecordsTemplate(streamName: string): string {
  return [
    `{"StreamName": "${streamName}", "Records": [`,
    "#foreach($r in $input.path('$.records'))",
    '  {"Data": "$util.base64Encode($input.json("$.records[$foreach.index]"))", "PartitionKey": "$util.escapeJavaScript($r.source)"}#if($foreach.hasNext),#end',
    '#end',
    ']}',
  ].join('\n');
}

/** Response template: `{"accepted":N}`, or status 503 with the indices Kinesis refused. */
export const PUT_RECORDS_RESPONSE_TEMPLATE = [
  "#set($out = $input.path('$'))",
  '#set($failedCount = $out.FailedRecordCount)',
  '#set($accepted = $out.Records.size() - $failedCount)',
  '#if($failedCount > 0)#set($context.responseOverride.status = 503)#end',
  '{"accepted": $accepted#if($failedCount > 0), "failed": [#set($sep = "")#foreach($r in $out.Records)#if("$!r.ErrorCode" != "")$sep$foreach.index#set($sep = ",")#end#end], "error": "$failedCount record(s) were not written; resend only those listed in failed"#end}',
].join('\n');

function inRange(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}; received ${v}`);
  }
  return v;
}

/**
 * `POST /ingest` on API Gateway → Kinesis PutRecords.
 *
 * @example
 * ```ts
 * const ingest = new IngestApi(this, 'Ingest', { stream: this.stream, rateLimit: 500 });
 * new CfnOutput(this, 'IngestUrl', { value: ingest.url });
 * ```
 */
export class IngestApi extends Construct {
  readonly api: apigw.RestApi;
  /** `https://<id>.execute-api.<region>.amazonaws.com/<stage>/ingest`. */
  readonly url: string;
  readonly apiKey: apigw.IApiKey;
  readonly usagePlan: apigw.UsagePlan;
  /** The role API Gateway assumes: `kinesis:PutRecords` on the stream, nothing else. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    const rateLimit = inRange('rateLimit', props.rateLimit ?? 100, 1, 10_000);
    const burstLimit = inRange('burstLimit', props.burstLimit ?? 200, 1, 5_000);
    const allowOrigins = [...(props.allowOrigins ?? apigw.Cors.ALL_ORIGINS)];
    const corsOrigin = allowOrigins.length === 1 ? allowOrigins[0]! : '*';

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.api = new apigw.RestApi(this, 'Api', {
      description: 'Shardline ingest: POST /ingest {"records":[...]} -> Kinesis PutRecords',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // API Gateway logs to CloudWatch through one role per account and region (its account settings).
      // A stack that creates it breaks every other API's logging when deleted: the operator sets it once.
      cloudWatchRole: false,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
      },
      defaultCorsPreflightOptions: {
        allowOrigins,
        allowMethods: ['POST', 'OPTIONS'],
        allowHeaders: ['Content-Type', 'X-Api-Key'],
        maxAge: Duration.minutes(10),
      },
    });
    const corsHeaders = { 'Access-Control-Allow-Origin': `'${corsOrigin}'` };
    // Validation and throttling errors carry CORS headers too, so browsers can read them.
    const errorTemplate = {
      'application/json':
        '{"error": "$context.error.validationErrorString", "message": $context.error.messageString}',
    };
    this.api.addGatewayResponse('BadBody', {
      type: apigw.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      responseHeaders: corsHeaders,
      templates: errorTemplate,
    });
    this.api.addGatewayResponse('Default4xx', {
      type: apigw.ResponseType.DEFAULT_4XX,
      responseHeaders: corsHeaders,
    });
    this.api.addGatewayResponse('Default5xx', {
      type: apigw.ResponseType.DEFAULT_5XX,
      responseHeaders: corsHeaders,
    });

    this.role = new iam.Role(this, 'Role', {
      // Only API Gateway, only on behalf of this API in this account (confused deputy).
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnLike: { 'aws:SourceArn': this.api.arnForExecuteApi() },
        },
      }),
      description: 'API Gateway ingest: kinesis:PutRecords on the Shardline stream only',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['kinesis:PutRecords'], resources: [props.stream.streamArn] }),
    );
    props.stream.encryptionKey?.grantEncrypt(this.role);

    const model = this.api.addModel('IngestBody', {
      contentType: 'application/json',
      modelName: 'ShardlineIngestBody',
      schema: ingestBodyJsonSchema(),
    });
    const validator = this.api.addRequestValidator('BodyValidator', {
      requestValidatorName: 'ingest-body',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const integration = new apigw.AwsIntegration({
      service: 'kinesis',
      action: 'PutRecords',
      integrationHttpMethod: 'POST',
      options: {
        credentialsRole: this.role,
        passthroughBehavior: apigw.PassthroughBehavior.NEVER,
        requestParameters: { 'integration.request.header.Content-Type': "'application/x-amz-json-1.1'" },
        requestTemplates: { 'application/json': putRecordsTemplate(props.stream.streamName) },
        integrationResponses: [
          {
            statusCode: '200',
            responseParameters: { 'method.response.header.Access-Control-Allow-Origin': `'${corsOrigin}'` },
            responseTemplates: { 'application/json': PUT_RECORDS_RESPONSE_TEMPLATE },
          },
          {
            selectionPattern: '4\\d{2}',
            statusCode: '502',
            responseParameters: { 'method.response.header.Access-Control-Allow-Origin': `'${corsOrigin}'` },
            responseTemplates: {
              'application/json':
                '{"error": "Kinesis rejected the request", "message": $input.json(\'$.message\')}',
            },
          },
          {
            selectionPattern: '5\\d{2}',
            statusCode: '503',
            responseParameters: { 'method.response.header.Access-Control-Allow-Origin': `'${corsOrigin}'` },
            responseTemplates: {
              'application/json': '{"error": "Kinesis is unavailable; retry with backoff"}',
            },
          },
        ],
      },
    });
    const ingest = this.api.root.addResource('ingest');
    const responseParameters = { 'method.response.header.Access-Control-Allow-Origin': true };
    ingest.addMethod('POST', integration, {
      apiKeyRequired: true,
      requestValidator: validator,
      requestModels: { 'application/json': model },
      methodResponses: ['200', '502', '503'].map((statusCode) => ({ statusCode, responseParameters })),
    });
    this.url = this.api.urlForPath('/ingest');

    this.apiKey = this.api.addApiKey('Key', { description: 'Shardline web clients' });
    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      description: 'Shardline ingest throttling',
      throttle: { rateLimit, burstLimit },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    this.usagePlan.addApiKey(this.apiKey);

    this.#acknowledge();
  }

  #acknowledge(): void {
    const ack = (scope: Construct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id, reason });
    ack(
      this.api,
      'AwsSolutions-APIG4',
      'Public ingest for browsers: callers are anonymous web pages; an API key with a throttled usage plan ' +
        'limits abuse, and every record is validated against the envelope schema.',
    );
    ack(this.api, 'AwsSolutions-COG4', 'Anonymous browser clients have no Cognito identity (see APIG4).');
    ack(
      this.api,
      'AwsSolutions-APIG3',
      'WAF is an account-level choice with its own cost; the usage plan throttles and validation rejects bad bodies.',
    );
  }
}
