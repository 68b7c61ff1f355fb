/**
 * The properties of the Shardline stack beyond the pipeline config (operational knobs: memory, alarms'
 * thresholds, retention), with their defaults applied once and validated.
 */
import { join } from 'node:path';
import { aws_logs as logs, type StackProps } from 'aws-cdk-lib';
import type { ResolvedConfig } from '../../../common/config.ts';
import { ConfigError } from '../../../common/errors.ts';
import { REPO_ROOT } from './private/repo.ts';

/** Properties of {@link ShardlineStack}. Everything about the pipeline itself comes from `config`. */
export interface ShardlineStackProps extends StackProps {
  /** The resolved pipeline configuration (`resolveConfig(...)`). */
  readonly config: ResolvedConfig;
  /**
   * Processor entry file exporting `handler`. Tests point this at a tiny file.
   * @default `<repo>/processors/handler.ts`
   */
  readonly handlerEntry?: string;
  /**
   * Folder of catalog `.sql` files; one Athena named query each. A missing folder means none.
   * @default `<repo>/queries/catalog`
   */
  readonly catalogDir?: string;
  /**
   * First partition (UTC) of the archive tables' `dt` projection range; the range ends at `NOW`.
   * @default 2025-01-01T00:00:00Z
   */
  readonly archiveStart?: Date;
  /**
   * Processor memory in MiB, 128–10,240.
   * @default the config's `processing.memoryMiB` (512)
   */
  readonly memorySizeMiB?: number;
  /**
   * Reserve concurrency for the processor: shard count × parallelization factor (PROVISIONED streams only).
   * Turn off on accounts whose concurrency limit is too low to reserve any (new accounts have 10).
   * @default true
   */
  readonly reserveConcurrency?: boolean;
  /**
   * Alarm when the processor's IteratorAge (Maximum over 1 minute) exceeds this many seconds, 1–604,800.
   * @default 300
   */
  readonly iteratorAgeAlarmSeconds?: number;
  /**
   * Alarm when more than this many records are quarantined in 5 minutes, 0–1e9.
   * @default 0 (any quarantined record alarms)
   */
  readonly quarantineAlarmThreshold?: number;
  /**
   * Keep the table, the buckets and the log groups when the stack is deleted, and protect the table from
   * deletion (DynamoDB deletion protection).
   * @default true
   */
  readonly retainData?: boolean;
  /**
   * Days every log group of the stack keeps its events (the processor's, the delivery streams' errors,
   * the ingest API's access log): one of CloudWatch Logs' values, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150,
   * 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653.
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * Days the archive bucket keeps an object version after it is overwritten or deleted (versioning
   * protects what backfill and reconcile rebuild from), 1–3650.
   * @default 30
   */
  readonly noncurrentVersionDays?: number;
}

/** {@link ShardlineStackProps} with every default applied. */
export interface ResolvedStackProps {
  handlerEntry: string;
  catalogDir: string;
  archiveStart: Date;
  memorySizeMiB: number;
  reserveConcurrency: boolean;
  iteratorAgeAlarmSeconds: number;
  quarantineAlarmThreshold: number;
  retainData: boolean;
  logRetention: logs.RetentionDays;
  noncurrentVersionDays: number;
}

function inRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}; received ${value}`);
  }
  return value;
}

/** The retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS = Object.values(logs.RetentionDays).filter(
  (d): d is logs.RetentionDays => typeof d === 'number' && d > 0,
);

function logRetention(days: number): logs.RetentionDays {
  const match = LOG_RETENTION_DAYS.find((d) => d === days);
  if (match === undefined) {
    throw new ConfigError(
      `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}; received ${days}`,
    );
  }
  return match;
}

/** Applies the defaults of {@link ShardlineStackProps} once and validates them. */
export function resolveStackProps(
  props: Omit<ShardlineStackProps, 'config'>,
  defaultMemoryMiB = 512,
): ResolvedStackProps {
  const archiveStart = props.archiveStart ?? new Date(Date.UTC(2025, 0, 1));
  if (Number.isNaN(archiveStart.getTime()))
    throw new ConfigError('archiveStart must be a valid date; received Invalid Date');
  return {
    handlerEntry: props.handlerEntry ?? join(REPO_ROOT, 'processors', 'handler.ts'),
    catalogDir: props.catalogDir ?? join(REPO_ROOT, 'queries', 'catalog'),
    archiveStart,
    memorySizeMiB: inRange('memorySizeMiB', props.memorySizeMiB ?? defaultMemoryMiB, 128, 10_240),
    reserveConcurrency: props.reserveConcurrency ?? true,
    iteratorAgeAlarmSeconds: inRange(
      'iteratorAgeAlarmSeconds',
      props.iteratorAgeAlarmSeconds ?? 300,
      1,
      604_800,
    ),
    quarantineAlarmThreshold: inRange(
      'quarantineAlarmThreshold',
      props.quarantineAlarmThreshold ?? 0,
      0,
      1e9,
    ),
    retainData: props.retainData ?? true,
    logRetention: logRetention(props.logRetentionDays ?? 30),
    noncurrentVersionDays: inRange('noncurrentVersionDays', props.noncurrentVersionDays ?? 30, 1, 3650),
  };
}
