/**
 * Monitoring: the pipeline's alarms (processor lag, errors and throttles; producer throttling; discarded
 * batches; late archive delivery; quarantined records) and a CloudWatch dashboard of the same metrics.
 */
import {
  aws_cloudwatch as cloudwatch,
  Duration,
  type aws_dynamodb as dynamodb,
  type aws_kinesisfirehose as firehose,
  type aws_kinesis as kinesis,
  type aws_lambda as lambda,
  type aws_sqs as sqs,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, QUARANTINED_METRIC, SERVICE_NAME } from '../outputs.ts';
import { ResourceGroup } from './private/logical-id.ts';

/** Properties of {@link Monitoring}. */
export interface MonitoringProps {
  readonly stream: kinesis.IStream;
  readonly table: dynamodb.ITable;
  readonly processor: lambda.IFunction;
  readonly onFailureQueue: sqs.IQueue;
  readonly archiveDelivery: firehose.IDeliveryStream;
  /** The archive delivery stream's buffering interval: freshness beyond it plus 15 minutes alarms. */
  readonly archiveBufferIntervalSeconds: number;
  /** Alarm when the processor's IteratorAge (Maximum over 1 minute) exceeds this many seconds. */
  readonly iteratorAgeAlarmSeconds: number;
  /** Alarm when more than this many records are quarantined in 5 minutes. */
  readonly quarantineAlarmThreshold: number;
  /** Name of the CloudWatch dashboard. */
  readonly dashboardName: string;
}

/**
 * The pipeline's alarms and dashboard.
 *
 * @example
 * ```ts
 * const monitoring = new Monitoring(this, 'Monitoring', { stream, table, processor, ... });
 * ```
 */
export class Monitoring extends ResourceGroup {
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { stream, table, processor, onFailureQueue, archiveDelivery } = props;
    const quarantined = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: QUARANTINED_METRIC,
      dimensionsMap: { service: SERVICE_NAME },
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
    const iteratorAge = processor.metric('IteratorAge', {
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      periods = 1,
    ) =>
      new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: periods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
    this.alarms = [
      alarm(
        'IteratorAgeAlarm',
        iteratorAge,
        props.iteratorAgeAlarmSeconds * 1000,
        'Processor is falling behind the stream',
        3,
      ),
      alarm(
        'ErrorsAlarm',
        processor.metricErrors({ period: Duration.minutes(5) }),
        0,
        'Processor invocations failed',
      ),
      alarm(
        'ThrottlesAlarm',
        processor.metricThrottles({ period: Duration.minutes(5) }),
        0,
        'Processor invocations were throttled',
      ),
      alarm(
        'WriteThrottleAlarm',
        stream.metricWriteProvisionedThroughputExceeded({
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        0,
        'Producers are throttled: add shards',
      ),
      alarm(
        'OnFailureQueueAlarm',
        onFailureQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        0,
        'Batches were discarded after retries; see the on-failure queue',
      ),
      alarm(
        'ArchiveFreshnessAlarm',
        archiveDelivery.metric('DeliveryToS3.DataFreshness', {
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        props.archiveBufferIntervalSeconds + 900,
        'Firehose archive delivery to S3 is late',
      ),
      alarm(
        'QuarantineAlarm',
        quarantined,
        props.quarantineAlarmThreshold,
        `More than ${props.quarantineAlarmThreshold} records quarantined in 5 minutes`,
      ),
    ];

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Stream: incoming records',
        left: [stream.metricIncomingRecords({ statistic: 'Sum', period: Duration.minutes(1) })],
        right: [
          stream.metricWriteProvisionedThroughputExceeded({
            statistic: 'Sum',
            period: Duration.minutes(1),
          }),
        ],
      }),
      new cloudwatch.GraphWidget({ title: 'Processor: iterator age (ms)', left: [iteratorAge] }),
      new cloudwatch.GraphWidget({
        title: 'Processor: invocations, errors, throttles',
        left: [
          processor.metricInvocations({ period: Duration.minutes(1) }),
          processor.metricErrors({ period: Duration.minutes(1) }),
          processor.metricThrottles({ period: Duration.minutes(1) }),
        ],
        right: [processor.metricDuration({ statistic: 'p99', period: Duration.minutes(1) })],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Aggregates table: consumed capacity',
        left: [
          table.metricConsumedWriteCapacityUnits({ period: Duration.minutes(1) }),
          table.metricConsumedReadCapacityUnits({ period: Duration.minutes(1) }),
        ],
      }),
      new cloudwatch.GraphWidget({ title: 'Quarantined records', left: [quarantined] }),
      new cloudwatch.GraphWidget({
        title: 'Archive: data freshness (s)',
        left: [archiveDelivery.metric('DeliveryToS3.DataFreshness', { statistic: 'Maximum' })],
        right: [onFailureQueue.metricApproximateNumberOfMessagesVisible()],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24 }),
    );
  }
}
