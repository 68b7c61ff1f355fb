import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../common/config.ts';
import { stackAlarmCount } from '../../../../infra/aws/cost.ts';
import { stackFixture } from '../../../helpers/stack.ts';

interface AlarmProps {
  MetricName?: string;
  Metrics?: { Id: string; MetricStat?: { Metric: { MetricName: string } } }[];
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  AlarmActions?: unknown[];
  OKActions?: unknown[];
}

const fixture = stackFixture();
let template: Template;
let outdir: string;

/** Every alarm's properties, by logical ID. */
function alarms(t: Template): Record<string, AlarmProps> {
  const found = t.findResources('AWS::CloudWatch::Alarm') as Record<string, { Properties: AlarmProps }>;
  return Object.fromEntries(Object.entries(found).map(([id, r]) => [id, r.Properties]));
}

/** Metric names an alarm watches (one, or every metric of a math expression). */
function metricNames(a: AlarmProps): string[] {
  if (a.MetricName !== undefined) return [a.MetricName];
  return (a.Metrics ?? []).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []));
}

beforeAll(() => {
  ({ template, outdir } = fixture.synth({}));
}, 60_000);
afterAll(() => fixture.dispose());

describe('Monitoring', () => {
  it('creates an SNS topic that refuses plain HTTP, and every alarm notifies it on alarm and on OK', () => {
    const topics = template.findResources('AWS::SNS::Topic');
    expect(Object.keys(topics)).toHaveLength(1);
    const topicRef = { Ref: Object.keys(topics)[0] };
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    const all = alarms(template);
    // The cost estimate prices the alarms the stack really has.
    expect(Object.keys(all)).toHaveLength(stackAlarmCount(resolveConfig({})));
    for (const [id, a] of Object.entries(all)) {
      expect(a.AlarmActions, id).toEqual([topicRef]);
      expect(a.OKActions, id).toEqual([topicRef]);
    }
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('has no Parquet conversion alarm for a JSON archive, and the cost estimate counts one alarm less', () => {
    const input = { archive: { format: 'json' as const } };
    const json = alarms(fixture.synth(input).template);
    expect(Object.values(json).map(metricNames)).not.toContainEqual(['FailedConversion.Records']);
    expect(Object.keys(json)).toHaveLength(stackAlarmCount(resolveConfig(input)));
    expect(stackAlarmCount(resolveConfig(input))).toBe(stackAlarmCount(resolveConfig({})) - 1);
  }, 60_000);

  it('alarms on Parquet conversion failures, quarantine delivery freshness, API 5XX and table throttles', () => {
    const watched = Object.values(alarms(template)).map(metricNames);
    expect(watched).toContainEqual(['FailedConversion.Records']);
    expect(watched).toContainEqual(['5XXError']);
    expect(watched).toContainEqual(expect.arrayContaining(['ReadThrottleEvents', 'WriteThrottleEvents']));
    // one freshness alarm per delivery stream: archive and quarantine
    expect(watched.filter((m) => m[0] === 'DeliveryToS3.DataFreshness')).toHaveLength(2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DeliveryToS3.DataFreshness',
      Dimensions: [{ Name: 'DeliveryStreamName', Value: Match.anyValue() }],
      Threshold: 60 + 900,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FailedConversion.Records',
      Namespace: 'AWS/Firehose',
      Threshold: 0,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5XXError',
      Namespace: 'AWS/ApiGateway',
    });
  });

  it('needs M of N datapoints, except for evidence that stays (DLQ messages, unconverted records)', () => {
    // ...and the device rule's failed deliveries and unparsable payloads (each is a lost or parked message).
    const lasting = [
      'ApproximateNumberOfMessagesVisible',
      'FailedConversion.Records',
      'Failure',
      'ParseError',
    ];
    for (const [id, a] of Object.entries(alarms(template))) {
      const points = a.DatapointsToAlarm ?? a.EvaluationPeriods;
      if (metricNames(a).some((m) => lasting.includes(m))) expect(points, id).toBe(1);
      else expect(points, id).toBeGreaterThanOrEqual(2);
      expect(points, id).toBeLessThanOrEqual(a.EvaluationPeriods);
    }
  });

  it('shows every alarm on the dashboard', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboards[0]);
    for (const id of Object.keys(alarms(template))) expect(body, id).toContain(id);
  });

  it('passes cdk-nag with the topic', () => {
    expect(fixture.nagViolations(outdir)).toEqual([]);
  });

  it('notifies an existing topic and subscribes an email address from config.alarms', () => {
    // GIVEN a topic of the operator's and an email address
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:ops-pager';
    const { template: t } = fixture.synth({ alarms: { topicArn, email: 'ops@example.com' } });
    // THEN no topic of the stack's own, every alarm notifies the given one, and the address is subscribed
    t.resourceCountIs('AWS::SNS::Topic', 0);
    for (const [id, a] of Object.entries(alarms(t))) {
      expect(a.AlarmActions, id).toEqual([topicArn]);
      expect(a.OKActions, id).toEqual([topicArn]);
    }
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topicArn,
    });
  }, 60_000);

  it('has no conversion alarm when the archive is JSON (Firehose converts nothing)', () => {
    const { template: t } = fixture.synth({ archive: { format: 'json' } });
    const watched = Object.values(alarms(t)).flatMap(metricNames);
    expect(watched).not.toContain('FailedConversion.Records');
  }, 60_000);
});
