/**
 * Monitoring: the pipeline's alarms, each notifying an SNS topic when it fires and when it clears, and a
 * CloudWatch dashboard of the same metrics.
 *
 * Datapoints to alarm: a rate that can blip (errors, throttles, 5XX, lag, delivery freshness, quarantined
 * records) alarms when M of the last N periods breach, so one bad minute pages nobody; evidence that stays
 * until someone acts (a message in the on-failure queue, a record Firehose could not convert to Parquet,
 * which sits in `errors/` where Athena does not look) alarms on the first datapoint.
 */
import {
  aws_cloudwatch_actions as actions,
  type aws_apigateway as apigw,
  aws_cloudwatch as cloudwatch,
  Duration,
  type aws_dynamodb as dynamodb,
  type aws_kinesisfirehose as firehose,
  type aws_kinesis as kinesis,
  type aws_lambda as lambda,
  aws_sns as sns,
  type aws_sqs as sqs,
  aws_sns_subscriptions as subscriptions,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../../../common/config.ts';
import { METRICS_NAMESPACE, QUARANTINED_METRIC, SERVICE_NAME } from '../outputs.ts';
import { acknowledgeNag } from './nag.ts';
import { ResourceGroup } from './private/logical-id.ts';

/** Properties of {@link Monitoring}. */
export interface MonitoringProps {
  /** `alarms` (topic, email) and the delivery streams' buffering intervals come from here. */
  readonly config: ResolvedConfig;
  readonly stream: kinesis.IStream;
  readonly table: dynamodb.ITable;
  readonly processor: lambda.IFunction;
  readonly onFailureQueue: sqs.IQueue;
  readonly archiveDelivery: firehose.IDeliveryStream;
  readonly quarantineDelivery: firehose.IDeliveryStream;
  /** The ingest REST API (its 5XX answers alarm). */
  readonly api: apigw.RestApi;
  /** Alarm when the processor's IteratorAge (Maximum over 1 minute) exceeds this many seconds. */
  readonly iteratorAgeAlarmSeconds: number;
  /** Alarm when more than this many records are quarantined in 5 minutes (in 2 of 3 such periods). */
  readonly quarantineAlarmThreshold: number;
  /** Name of the CloudWatch dashboard. */
  readonly dashboardName: string;
}

/** How many of the last `of` periods must breach. */
interface Datapoints {
  readonly alarmOn: number;
  readonly of: number;
}
/** For rates that can blip. */
const SUSTAINED_1M: Datapoints = { alarmOn: 3, of: 5 };
const SUSTAINED_5M: Datapoints = { alarmOn: 2, of: 3 };
/** For evidence that stays until someone acts. */
const FIRST: Datapoints = { alarmOn: 1, of: 1 };

/** Late delivery: the buffering interval plus this much. */
const FRESHNESS_SLACK_SECONDS = 900;

/**
 * The pipeline's alarms, the topic they notify and the dashboard.
 *
 * @example
 * ```ts
 * const monitoring = new Monitoring(this, 'Monitoring', { config, stream, table, processor, ... });
 * monitoring.addAlarm('MyAlarm', metric, 0, 'Something went wrong', { alarmOn: 1, of: 1 });
 * ```
 */
export class Monitoring extends ResourceGroup {
  /** Every alarm notifies it (alarm and OK): `config.alarms.topicArn`, or the stack's own topic. */
  readonly topic: sns.ITopic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly #alarms: cloudwatch.Alarm[] = [];
  readonly #action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, stream, table, processor, onFailureQueue, archiveDelivery, quarantineDelivery } = props;
    this.topic =
      config.alarms.topicArn === undefined
        ? new sns.Topic(this, 'AlarmTopic', {
            displayName: `${props.dashboardName} alarms`,
            enforceSSL: true,
          })
        : sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarms.topicArn);
    if (this.topic instanceof sns.Topic) {
      acknowledgeNag(this.topic, {
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry alarm names and states, no pipeline data. CloudWatch cannot publish to a ' +
          'topic encrypted with the AWS managed key (aws/sns), and a customer managed key for this is a ' +
          'standing cost; the topic policy denies publishing without TLS (SNS3).',
      });
    }
    if (config.alarms.email !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarms.email));
    }
    this.#action = new actions.SnsAction(this.topic);

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
    const freshness = (delivery: firehose.IDeliveryStream, period?: Duration) =>
      delivery.metric('DeliveryToS3.DataFreshness', { statistic: 'Maximum', period });
    const tableThrottles = new cloudwatch.MathExpression({
      expression: 'FILL(r, 0) + FILL(w, 0)',
      usingMetrics: {
        r: table.metric('ReadThrottleEvents', { statistic: 'Sum', period: Duration.minutes(1) }),
        w: table.metric('WriteThrottleEvents', { statistic: 'Sum', period: Duration.minutes(1) }),
      },
      label: 'Read + write throttle events',
      period: Duration.minutes(1),
    });

    this.addAlarm(
      'IteratorAgeAlarm',
      iteratorAge,
      props.iteratorAgeAlarmSeconds * 1000,
      'Processor is falling behind the stream',
      { alarmOn: 3, of: 3 },
    );
    this.addAlarm(
      'ErrorsAlarm',
      processor.metricErrors({ period: Duration.minutes(1) }),
      0,
      'Processor invocations failed',
      SUSTAINED_1M,
    );
    this.addAlarm(
      'ThrottlesAlarm',
      processor.metricThrottles({ period: Duration.minutes(1) }),
      0,
      'Processor invocations were throttled',
      SUSTAINED_1M,
    );
    this.addAlarm(
      'WriteThrottleAlarm',
      stream.metricWriteProvisionedThroughputExceeded({ statistic: 'Sum', period: Duration.minutes(1) }),
      0,
      'Producers are throttled: add shards',
      SUSTAINED_1M,
    );
    this.addAlarm(
      'OnFailureQueueAlarm',
      onFailureQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      0,
      'Batches were discarded after retries; see the on-failure queue',
      FIRST,
    );
    this.addAlarm(
      'ArchiveFreshnessAlarm',
      freshness(archiveDelivery, Duration.minutes(5)),
      config.archive.bufferIntervalSeconds + FRESHNESS_SLACK_SECONDS,
      'Firehose archive delivery to S3 is late',
      SUSTAINED_5M,
    );
    this.addAlarm(
      'QuarantineFreshnessAlarm',
      freshness(quarantineDelivery, Duration.minutes(5)),
      config.quarantine.bufferIntervalSeconds + FRESHNESS_SLACK_SECONDS,
      'Firehose quarantine delivery to S3 is late',
      SUSTAINED_5M,
    );
    if (config.archive.format === 'parquet') {
      this.addAlarm(
        'ArchiveConversionAlarm',
        archiveDelivery.metric('FailedConversion.Records', { statistic: 'Sum', period: Duration.minutes(5) }),
        0,
        'Firehose could not convert records to Parquet: they are under the errors/ prefix, invisible to Athena',
        FIRST,
      );
    }
    this.addAlarm(
      'QuarantineAlarm',
      quarantined,
      props.quarantineAlarmThreshold,
      `More than ${props.quarantineAlarmThreshold} records quarantined in 5 minutes, twice in 15 minutes`,
      SUSTAINED_5M,
    );
    this.addAlarm(
      'Ingest5xxAlarm',
      props.api.metricServerError({ statistic: 'Sum', period: Duration.minutes(1) }),
      0,
      'The ingest API answered 5XX (Kinesis refused or failed requests)',
      SUSTAINED_1M,
    );
    this.addAlarm(
      'TableThrottleAlarm',
      tableThrottles,
      0,
      'DynamoDB throttled requests to the aggregates table',
      SUSTAINED_1M,
    );

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
        right: [tableThrottles],
      }),
      new cloudwatch.GraphWidget({ title: 'Quarantined records', left: [quarantined] }),
      new cloudwatch.GraphWidget({
        title: 'Archive: data freshness (s)',
        left: [freshness(archiveDelivery), freshness(quarantineDelivery)],
        right: [onFailureQueue.metricApproximateNumberOfMessagesVisible()],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Ingest API: requests, 4XX, 5XX',
        left: [props.api.metricCount({ period: Duration.minutes(1) })],
        right: [
          props.api.metricClientError({ period: Duration.minutes(1) }),
          props.api.metricServerError({ period: Duration.minutes(1) }),
        ],
      }),
    );
    // The live list: the widget reads it at synth time, so alarms added later (addAlarm) show up too.
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.#alarms, width: 24, height: 4 }),
    );
  }

  /** Every alarm of the pipeline, in the order added. */
  get alarms(): readonly cloudwatch.Alarm[] {
    return [...this.#alarms];
  }

  /**
   * Adds an alarm (`metric` > `threshold`, missing data not breaching) that notifies {@link topic} when it
   * fires and when it clears, and shows it on the dashboard.
   */
  addAlarm(
    alarmId: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    description: string,
    datapoints: Datapoints,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, alarmId, {
      metric,
      threshold,
      evaluationPeriods: datapoints.of,
      datapointsToAlarm: datapoints.alarmOn,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(this.#action);
    alarm.addOkAction(this.#action);
    this.#alarms.push(alarm);
    return alarm;
  }
}
