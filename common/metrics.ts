/**
 * The processor's CloudWatch metrics: a contract between the Lambda that emits them (Powertools EMF) and
 * the stack's alarms and dashboard that read them.
 */

/** CloudWatch namespace of the processor's metrics. */
export const METRICS_NAMESPACE = 'Shardline';
/** Powertools service name: the `service` dimension of every metric. */
export const SERVICE_NAME = 'shardline-processor';

/** Metric names the processor emits once per batch (unit Count). */
export const PROCESSOR_METRICS = {
  /** Records folded into aggregates. */
  aggregated: 'AggregatedRecords',
  /** Records quarantined (bad input, late, too far in the future). */
  quarantined: 'QuarantinedRecords',
  /** Aggregate items written. */
  itemsWritten: 'ItemsWritten',
  /** Aggregate item writes that failed (the batch is retried from there). */
  itemWriteFailures: 'ItemWriteFailures',
} as const;
