import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, aws_kinesis as kinesis, Stack, aws_s3 as s3 } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../common/config.ts';
import { ConfigError } from '../../../../common/errors.ts';
import { deviceMapping } from '../../../../common/iot.ts';
import { DeviceIngest } from '../../../../infra/aws/lib/iot.ts';
import { acknowledgeNag, readNagReport, registerNag } from '../../../../infra/aws/lib/nag.ts';

const outdir = mkdtempSync(join(tmpdir(), 'iot-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

// GIVEN a stack holding a stream, a bucket and the device ingest, with the cdk-nag AwsSolutions checks.
const app = new App({ outdir });
const stack = new Stack(app, 'IotTest', { env: { region: 'eu-west-1', account: '123456789012' } });
const stream = new kinesis.Stream(stack, 'Stream', {
  streamName: 'events',
  shardCount: 1,
  encryption: kinesis.StreamEncryption.MANAGED,
});
const bucket = new s3.Bucket(stack, 'Archive', {
  enforceSSL: true,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  encryption: s3.BucketEncryption.S3_MANAGED,
});
acknowledgeNag(bucket, { id: 'AwsSolutions-S1', reason: 'test bucket' });
const mapping = deviceMapping(resolveConfig({}).iot);
const devices = new DeviceIngest(stack, 'Devices', { mapping, stream, errorBucket: bucket });
registerNag(app);
app.synth(); // throws on an unacknowledged cdk-nag error; warnings are checked in the report below
const template = Template.fromStack(stack);
// biome-ignore lint/suspicious/noTemplateCurlyInString: an IoT policy variable, not JS
const THING = '${iot:Connection.Thing.ThingName}';
const ref = (c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as Parameters<typeof stack.getLogicalId>[0]);

describe('DeviceIngest', () => {
  it('leaves no unacknowledged cdk-nag finding, warnings included', () => {
    expect(readNagReport(outdir).violations).toEqual([]);
  });

  it('is a topic rule with the SQL of the issue, a Kinesis action keyed by topic(2) and an error action', () => {
    template.resourceCountIs('AWS::IoT::TopicRule', 1);
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      RuleName: 'shardline_devices',
      TopicRulePayload: Match.objectLike({
        Sql: "SELECT *, topic(2) AS source FROM 'devices/+/events'",
        AwsIotSqlVersion: '2016-03-23',
        RuleDisabled: false,
        Actions: [
          {
            Kinesis: {
              StreamName: { Ref: ref(stream) },
              // biome-ignore lint/suspicious/noTemplateCurlyInString: an IoT substitution template
              PartitionKey: '${topic(2)}',
              RoleArn: { 'Fn::GetAtt': [ref(devices.actionRole), 'Arn'] },
            },
          },
        ],
        ErrorAction: {
          S3: {
            BucketName: { Ref: ref(bucket) },
            Key: Match.stringLikeRegexp('^errors/iot-rule/.*newuuid\\(\\)'),
            RoleArn: { 'Fn::GetAtt': [ref(devices.actionRole), 'Arn'] },
          },
        },
      }),
    });
  });

  it('gives the rule role only PutRecord on the stream and PutObject under the error prefix', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(1);
    const statements = (
      policies[0] as {
        Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } };
      }
    ).Properties.PolicyDocument.Statement;
    expect(statements).toEqual([
      expect.objectContaining({
        Action: 'kinesis:PutRecord',
        Resource: { 'Fn::GetAtt': [ref(stream), 'Arn'] },
      }),
      expect.objectContaining({
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ref(bucket), 'Arn'] }, '/errors/iot-rule/*']] },
      }),
    ]);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'iot.amazonaws.com' } })],
      }),
    });
  });

  it('lets a thing connect only as itself and publish only to its own topic', () => {
    const policy = Object.values(template.findResources('AWS::IoT::Policy'))[0] as {
      Properties: {
        PolicyDocument: { Statement: { Action: string; Resource: unknown; Condition?: unknown }[] };
      };
    };
    const [connect, publish, ...more] = policy.Properties.PolicyDocument.Statement;
    expect(more).toEqual([]);
    expect(connect?.Action).toBe('iot:Connect');
    expect(JSON.stringify(connect?.Resource)).toContain(`:client/${THING}`);
    expect(connect?.Condition).toEqual({ Bool: { 'iot:Connection.Thing.IsAttached': 'true' } });
    expect(publish?.Action).toBe('iot:Publish');
    expect(JSON.stringify(publish?.Resource)).toContain(`:topic/devices/${THING}/events`);
  });

  it('alarms on any failed Kinesis action and on any payload the rule could not parse', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/IoT',
      MetricName: 'Failure',
      Dimensions: Match.arrayWith([{ Name: 'RuleName', Value: 'shardline_devices' }]),
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/IoT',
      MetricName: 'ParseError',
      Dimensions: [{ Name: 'RuleName', Value: 'shardline_devices' }],
      Threshold: 0,
    });
  });

  it('refuses a bad error prefix', () => {
    const s = new Stack(new App(), 'Bad');
    const st = new kinesis.Stream(s, 'S');
    const b = new s3.Bucket(s, 'B');
    expect(
      () => new DeviceIngest(s, 'D', { mapping, stream: st, errorBucket: b, errorPrefix: '/x' }),
    ).toThrow(ConfigError);
  });
});
