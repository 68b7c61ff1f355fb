/**
 * Devices over MQTT on AWS: an AWS IoT Core topic rule forwarding `devices/{source}/events` into the Kinesis
 * stream, with the mapping of `config.iot` (`SELECT *, topic(2) AS source FROM 'devices/+/events'`, partition
 * key `${topic(2)}`), the same one the local broker applies (`common/iot.ts`).
 *
 * - The rule's Kinesis action runs under a role that may only `kinesis:PutRecord` on this stream; its error
 *   action writes IoT Core's error message (rule, topic, client id, `base64OriginalPayload`, and each
 *   failure's `errorMessage`: the reason) to the archive bucket under `errors/iot-rule/`, under a role that
 *   may only put objects there.
 * - The device policy lets a thing connect only with its own name as client id (and a certificate attached
 *   to it) and publish only to its own topic, `devices/${iot:Connection.Thing.ThingName}/events`.
 * - Alarms: any failed Kinesis action (`AWS/IoT` `Failure`), any message the rule could not parse as JSON
 *   (`ParseError`; IoT Core runs no action for those, so the alarm is where they become visible).
 */
import {
  Aws,
  type CfnElement,
  aws_cloudwatch as cloudwatch,
  Duration,
  aws_iam as iam,
  aws_iot as iot,
  type aws_kinesis as kinesis,
  Stack,
  type aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ConfigError } from '../../../common/errors.ts';
import type { DeviceMapping } from '../../../common/iot.ts';
import { acknowledgeNag } from './nag.ts';

export interface DeviceIngestProps {
  /** The topic mapping, `deviceMapping(config.iot)`. */
  readonly mapping: DeviceMapping;
  /** The stream the rule writes to. */
  readonly stream: kinesis.IStream;
  /** Bucket the error action writes failed deliveries to (the archive bucket). */
  readonly errorBucket: s3.IBucket;
  /** Key prefix of failed deliveries: empty or ending with `/`, not starting with `/`. @default 'errors/iot-rule/' */
  readonly errorPrefix?: string;
  /** Name of the device IoT policy. @default `<ruleName>_device` */
  readonly policyName?: string;
  /**
   * Makes each alarm (threshold 0: any datapoint above it alarms), e.g. the stack's `Monitoring.addAlarm`, so
   * they notify its topic. @default a plain CloudWatch alarm in this construct, without actions
   */
  readonly alarm?: (alarmId: string, metric: cloudwatch.IMetric, description: string) => cloudwatch.Alarm;
}

/** The topic rule, its roles, the device policy and the alarms. */
export class DeviceIngest extends Construct {
  readonly rule: iot.CfnTopicRule;
  readonly devicePolicy: iot.CfnPolicy;
  readonly actionRole: iam.Role;
  readonly alarms: readonly cloudwatch.Alarm[];
  /** Key prefix of failed deliveries in the error bucket. */
  readonly errorPrefix: string;

  constructor(scope: Construct, id: string, props: DeviceIngestProps) {
    super(scope, id);
    const { mapping } = props;
    const errorPrefix = props.errorPrefix ?? 'errors/iot-rule/';
    if (!/^([^/].*\/)?$/.test(errorPrefix)) {
      throw new ConfigError(
        `errorPrefix must be empty or end with "/" and not start with "/"; received ${JSON.stringify(errorPrefix)}`,
      );
    }
    this.errorPrefix = errorPrefix;

    this.actionRole = new iam.Role(this, 'ActionRole', {
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com'),
      description: `IoT rule ${mapping.ruleName}: put records on the stream, failed deliveries in the archive bucket`,
    });
    this.actionRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['kinesis:PutRecord'], resources: [props.stream.streamArn] }),
    );
    this.actionRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [props.errorBucket.arnForObjects(`${errorPrefix}*`)],
      }),
    );
    acknowledgeNag(this.actionRole, {
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalIdHint(props.errorBucket)}.Arn>/${errorPrefix}*]`,
      reason:
        'The error action writes one object per failed message under a generated key (timestamp and uuid), ' +
        'so it may put any object under this one prefix of the archive bucket, and nothing else.',
    });

    this.rule = new iot.CfnTopicRule(this, 'Rule', {
      ruleName: mapping.ruleName,
      topicRulePayload: {
        description: `Devices publish envelopes to ${mapping.topic}; source and partition key come from the topic`,
        sql: mapping.sql,
        awsIotSqlVersion: '2016-03-23',
        ruleDisabled: false,
        actions: [
          {
            kinesis: {
              streamName: props.stream.streamName,
              partitionKey: mapping.partitionKey,
              roleArn: this.actionRole.roleArn,
            },
          },
        ],
        errorAction: {
          s3: {
            bucketName: props.errorBucket.bucketName,
            key: `${errorPrefix}\${parse_time("yyyy-MM-dd-HH", timestamp(), "UTC")}/\${newuuid()}.json`,
            roleArn: this.actionRole.roleArn,
          },
        },
      },
    });
    this.rule.node.addDependency(this.actionRole);

    // biome-ignore lint/suspicious/noTemplateCurlyInString: an IoT policy variable, not JS
    const thing = '${iot:Connection.Thing.ThingName}';
    const arn = (resource: string) => `arn:${Aws.PARTITION}:iot:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    this.devicePolicy = new iot.CfnPolicy(this, 'DevicePolicy', {
      policyName: props.policyName ?? `${mapping.ruleName}_device`,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'iot:Connect',
            Resource: arn(`client/${thing}`),
            Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
          },
          {
            Effect: 'Allow',
            Action: 'iot:Publish',
            Resource: arn(`topic/${mapping.topic.replace('{source}', () => thing)}`),
          },
        ],
      },
    });

    const metric = (metricName: string, dimensionsMap: Record<string, string>) =>
      new cloudwatch.Metric({
        namespace: 'AWS/IoT',
        metricName,
        dimensionsMap,
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    const alarm =
      props.alarm ??
      ((alarmId: string, m: cloudwatch.IMetric, description: string) =>
        new cloudwatch.Alarm(this, alarmId, {
          metric: m,
          threshold: 0,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: description,
        }));
    this.alarms = [
      alarm(
        'DeviceRuleActionFailureAlarm',
        metric('Failure', { RuleName: mapping.ruleName, ActionType: 'Kinesis' }),
        `IoT rule ${mapping.ruleName} could not put messages on the stream; see s3://<archive>/${errorPrefix}`,
      ),
      alarm(
        'DeviceRuleParseErrorAlarm',
        metric('ParseError', { RuleName: mapping.ruleName }),
        `Devices published payloads that are not JSON to ${mapping.topic}; IoT rule ${mapping.ruleName} dropped them`,
      ),
    ];
  }
}

/** The logical id cdk-nag shows for the bucket's ARN in findings (`<LogicalId.Arn>`). */
function bucketLogicalIdHint(bucket: s3.IBucket): string {
  const child = bucket.node.defaultChild;
  if (child === undefined) return bucket.node.id;
  return Stack.of(bucket).getLogicalId(child as CfnElement);
}
