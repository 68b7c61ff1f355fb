/**
 * The ingest endpoint on AWS: an API Gateway REST API whose `POST /ingest` is an AWS service integration
 * calling Kinesis PutRecords directly (no Lambda). Same contract as the local endpoint
 * (`producers/ingest/handler.ts`): body `{"records":[envelope,...]}`, 1–`maxRecordsPerRequest` records,
 * validated against a JSON Schema model generated from the envelope limits and the allowed web event types
 * (an invalid request is rejected whole with 400 naming the problem); each record's `source` is namespaced
 * `web:` in the data and the partition key; answer `{"accepted":N}`, or 503 `{"accepted","failed":[i...]}`
 * with `Retry-After` when Kinesis refused some entries. An API key and a usage plan sized from the stream's
 * capacity throttle it and cap it per day; CORS names only the configured origins.
 */
import {
  aws_apigateway as apigw,
  Duration,
  aws_iam as iam,
  type aws_kinesis as kinesis,
  aws_logs as logs,
  RemovalPolicy,
  Stack,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConfigError } from '../../../common/errors.ts';
import { INGEST_LIMITS, WEB_SOURCE_PREFIX } from '../../../producers/ingest/body.ts';
import {
  corsOriginTemplate,
  ingestBodyJsonSchema,
  PUT_RECORDS_RESPONSE_TEMPLATE,
  putRecordsTemplate,
  REJECTED_RESPONSE_BODY,
  UNAVAILABLE_RESPONSE_BODY,
} from './ingest-mapping.ts';
import { acknowledgeNag } from './nag.ts';

export {
  corsOriginTemplate,
  envelopeJsonSchema,
  ingestBodyJsonSchema,
  ingestThrottle,
  ON_DEMAND_RECORDS_PER_SECOND,
  PUT_RECORDS_RESPONSE_TEMPLATE,
  putRecordsTemplate,
  RECORDS_PER_SHARD_SECOND,
  REJECTED_RESPONSE_BODY,
  type StreamCapacity,
  UNAVAILABLE_RESPONSE_BODY,
  type WebEventRules,
} from './ingest-mapping.ts';

export interface IngestApiProps {
  /** The stream records go to. */
  readonly stream: kinesis.IStream;
  /** Steady-state requests per second of the stage and the usage plan, 1–10,000. @default 100 */
  readonly rateLimit?: number;
  /** Burst of requests of the stage and the usage plan, 1–5,000. @default 2 × rateLimit, at most 5,000 */
  readonly burstLimit?: number;
  /** Requests a day the API key may make (usage plan quota), 1–1e9. @default 1,000,000 */
  readonly dailyRequestQuota?: number;
  /** Records per request, 1–500. @default 100 */
  readonly maxRecordsPerRequest?: number;
  /** Event types the model accepts. @default ['pageview', 'click', 'purchase'] */
  readonly webEventTypes?: readonly string[];
  /** Origins whose pages may call the API (CORS); `['*']` for any. @default ['*'] */
  readonly allowOrigins?: readonly string[];
  /** Stage name. @default 'prod' */
  readonly stageName?: string;
  /** Access log retention. @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the access log group. @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

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
 * const ingest = new IngestApi(this, 'Ingest', { stream: this.stream, rateLimit: 40, webEventTypes: ['pageview'] });
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
    const burstLimit = inRange('burstLimit', props.burstLimit ?? Math.min(5_000, 2 * rateLimit), 1, 5_000);
    const quota = inRange('dailyRequestQuota', props.dailyRequestQuota ?? 1_000_000, 1, 1_000_000_000);
    const maxRecords = inRange(
      'maxRecordsPerRequest',
      props.maxRecordsPerRequest ?? 100,
      1,
      INGEST_LIMITS.maxRecords,
    );
    const types = props.webEventTypes ?? ['pageview', 'click', 'purchase'];
    const allowOrigins = [...(props.allowOrigins ?? ['*'])];
    const anyOrigin = allowOrigins.includes('*');
    // One origin (or any): a static header. Several: the integration responses name the caller's origin
    // when it is listed; gateway responses (validation, throttling) cannot check it and name none.
    const staticOrigin = anyOrigin ? '*' : allowOrigins.length === 1 ? allowOrigins[0]! : undefined;
    const corsTemplate = staticOrigin === undefined ? `${corsOriginTemplate(allowOrigins)}\n` : '';
    const corsParameters: Record<string, string> =
      staticOrigin === undefined
        ? { 'method.response.header.Vary': "'Origin'" }
        : { 'method.response.header.Access-Control-Allow-Origin': `'${staticOrigin}'` };

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
        // Standard fields include the caller's IP: per-client request counts come from this log.
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
      },
      defaultCorsPreflightOptions: {
        allowOrigins: anyOrigin ? apigw.Cors.ALL_ORIGINS : allowOrigins,
        allowMethods: ['POST', 'OPTIONS'],
        allowHeaders: ['Content-Type', 'X-Api-Key'],
        maxAge: Duration.minutes(10),
      },
    });
    const corsHeaders: Record<string, string> =
      staticOrigin === undefined ? {} : { 'Access-Control-Allow-Origin': `'${staticOrigin}'` };
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
      schema: ingestBodyJsonSchema({ types, sourcePrefix: WEB_SOURCE_PREFIX }, maxRecords),
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
            responseParameters: corsParameters,
            responseTemplates: { 'application/json': corsTemplate + PUT_RECORDS_RESPONSE_TEMPLATE },
          },
          {
            selectionPattern: '4\\d{2}',
            statusCode: '502',
            responseParameters: corsParameters,
            responseTemplates: { 'application/json': corsTemplate + REJECTED_RESPONSE_BODY },
          },
          {
            selectionPattern: '5\\d{2}',
            statusCode: '503',
            responseParameters: { ...corsParameters, 'method.response.header.Retry-After': "'1'" },
            responseTemplates: { 'application/json': corsTemplate + UNAVAILABLE_RESPONSE_BODY },
          },
        ],
      },
    });
    const ingest = this.api.root.addResource('ingest');
    const headers = [
      'method.response.header.Access-Control-Allow-Origin',
      'method.response.header.Vary',
      'method.response.header.Retry-After',
    ];
    const post = ingest.addMethod('POST', integration, {
      apiKeyRequired: true,
      requestValidator: validator,
      requestModels: { 'application/json': model },
      methodResponses: ['200', '502', '503'].map((statusCode) => ({
        statusCode,
        responseParameters: Object.fromEntries(headers.map((h) => [h, false])),
      })),
    });
    this.url = this.api.urlForPath('/ingest');

    this.apiKey = this.api.addApiKey('Key', { description: 'Shardline web clients' });
    this.usagePlan = this.api.addUsagePlan('UsagePlan', {
      description: 'Shardline ingest: throttled to the stream capacity, capped per day',
      throttle: { rateLimit, burstLimit },
      quota: { limit: quota, period: apigw.Period.DAY },
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    this.usagePlan.addApiKey(this.apiKey);

    this.#acknowledge(post);
  }

  /** Each finding acknowledged on the resource it concerns. */
  #acknowledge(post: apigw.Method): void {
    const anonymous =
      'Public ingest for browsers: callers are anonymous web pages. An API key with a usage plan (rate ' +
      'sized to the stream, daily quota) limits abuse, every record is validated against the envelope ' +
      'schema and the allowed web event types, and sources are namespaced web:.';
    const preflights = this.api.methods.filter((m) => m.httpMethod === 'OPTIONS');
    for (const method of [post, ...preflights]) {
      acknowledgeNag(method, { id: 'AwsSolutions-APIG4', reason: anonymous });
      acknowledgeNag(method, {
        id: 'AwsSolutions-COG4',
        reason:
          'Anonymous browser clients have no Cognito identity (see APIG4); CORS preflights carry no credentials.',
      });
    }
    acknowledgeNag(this.api.deploymentStage, {
      id: 'AwsSolutions-APIG3',
      reason:
        'WAF is an account-level choice with its own monthly cost; the stage and usage plan throttle to ' +
        'the stream capacity with a daily quota, and the access log records each caller IP for per-client analysis.',
    });
  }
}
