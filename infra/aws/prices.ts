/**
 * AWS list prices used by `shardline cost`, in USD, region us-east-1. The ONE place prices live.
 *
 * As of 2026-11-22, from the public pricing pages (aws.amazon.com/<service>/pricing) for us-east-1;
 * the DynamoDB on-demand figures are after the November 2024 price cut. Prices change: re-check before
 * relying on an estimate, and update {@link PRICES_AS_OF} with every edit.
 */
export const PRICES_AS_OF = '2026-11-22';
export const PRICES_REGION = 'us-east-1';
export const PRICES_SOURCE = 'AWS public pricing pages (us-east-1, on-demand list prices, no free tier)';

/** Hours in a billing month, as AWS calculators use. */
export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

export const PRICES = {
  kinesis: {
    /** Provisioned: per shard-hour. */
    shardHour: 0.015,
    /** Provisioned: per million PUT payload units (25 KB each). */
    putPayloadUnitsPerMillion: 0.014,
    /** Provisioned: extended retention (24 h to 7 days), per shard-hour. */
    extendedRetentionShardHour: 0.02,
    /** On-demand: per stream-hour. */
    onDemandStreamHour: 0.04,
    /** On-demand: per GB written (rounded up to 1 KB per record). */
    onDemandIngestPerGB: 0.08,
    /** On-demand: per GB read (each consumer). */
    onDemandRetrievalPerGB: 0.04,
  },
  lambda: {
    /** arm64, per GB-second. */
    arm64GBSecond: 0.0000133334,
    /** Per million requests. */
    requestsPerMillion: 0.2,
  },
  dynamodb: {
    /** On-demand, per million write request units (1 KB each). */
    writeRequestUnitsPerMillion: 0.625,
    /** On-demand, per million read request units (4 KB strongly consistent each). */
    readRequestUnitsPerMillion: 0.125,
    /** Provisioned, per write capacity unit-hour. */
    provisionedWcuHour: 0.00065,
    /** Provisioned, per read capacity unit-hour. */
    provisionedRcuHour: 0.00013,
    /** Standard table class, per GB-month. */
    storageGBMonth: 0.25,
    /** Continuous backups (PITR), per GB-month. */
    pitrGBMonth: 0.2,
  },
  firehose: {
    /** Ingestion per GB, first 500 TB/month; each record rounded up to 5 KB. */
    ingestPerGB: 0.029,
    /** Record format conversion (JSON to Parquet), per GB. */
    formatConversionPerGB: 0.018,
  },
  s3: {
    /** S3 Standard, per GB-month (first 50 TB). */
    standardGBMonth: 0.023,
    /** PUT/COPY/POST/LIST, per 1,000 requests. */
    putPer1000: 0.005,
  },
  cloudwatch: {
    /** Standard-resolution alarm, per alarm-month. */
    alarmMonth: 0.1,
    /** Dashboard, per month (beyond the first three). */
    dashboardMonth: 3,
    /** Logs ingestion, per GB. */
    logsIngestPerGB: 0.5,
    /** Custom metric, per metric-month (first 10,000). */
    customMetricMonth: 0.3,
  },
  sqs: {
    /** Standard queue, per million requests. */
    requestsPerMillion: 0.4,
  },
  athena: {
    /**
     * SQL queries, per TB (2^40 bytes) scanned; scanned bytes are rounded up to whole MB with a 10 MB minimum
     * per query (`queries/athena/pricing.ts` applies those rules).
     */
    perTBScanned: 5,
  },
  flink: {
    /** Managed Service for Apache Flink, per KPU-hour (1 vCPU, 4 GB). */
    kpuHour: 0.11,
    /** Each application is charged one extra KPU for orchestration. */
    orchestrationKpus: 1,
    /** Running application storage, per GB-month; 50 GB per KPU. */
    storageGBMonth: 0.1,
    storageGBPerKpu: 50,
  },
} as const;
