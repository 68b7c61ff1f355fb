/**
 * Chaos run options: which faults to inject and how often, validated in one place, and the event source
 * settings a chaos run needs (a short function timeout so timeouts happen; never discard a batch).
 */
import type { ResolvedConfig } from '../../../common/config.ts';
import { ConfigError } from '../../../common/errors.ts';

export interface ChaosOptions {
  /** Seed of every fault decision, any integer. @default 1 */
  readonly seed?: number;
  /** Share of invocations that throw before, during or after their writes (split evenly), 0–0.5. @default 0.06 */
  readonly handlerErrorRate?: number;
  /** Share of invocations that report a failed record after processing the batch, 0–0.5. @default 0.03 */
  readonly reportedFailureRate?: number;
  /** Share of invocations that run past the function timeout (and keep writing as zombies), 0–0.5. @default 0.02 */
  readonly timeoutRate?: number;
  /** Share of successful batches delivered a second time, 0–0.5. @default 0.05 */
  readonly duplicateRate?: number;
  /** Share of DynamoDB requests answered with ProvisionedThroughputExceededException, 0–0.5. @default 0.005 */
  readonly dynamoThrottleRate?: number;
  /** Share of DynamoDB requests answered with InternalServerError (HTTP 500) unsent, 0–0.5. @default 0.003 */
  readonly dynamoErrorRate?: number;
  /** Share of DynamoDB requests applied whose response is replaced by an HTTP 500, 0–0.5. @default 0.003 */
  readonly dynamoLostResponseRate?: number;
  /** Share of the mapping's GetRecords calls answered with ProvisionedThroughputExceededException, 0–0.5. @default 0.03 */
  readonly getRecordsThrottleRate?: number;
  /** Function timeout of the chaos run in seconds, 1–60. @default 2 */
  readonly functionTimeoutSeconds?: number;
  /** Split one shard and merge two adjacent ones while events flow. @default true */
  readonly reshard?: boolean;
}

export type ResolvedChaosOptions = Required<ChaosOptions>;

export const CHAOS_DEFAULTS: ResolvedChaosOptions = {
  seed: 1,
  handlerErrorRate: 0.06,
  reportedFailureRate: 0.03,
  timeoutRate: 0.02,
  duplicateRate: 0.05,
  dynamoThrottleRate: 0.005,
  dynamoErrorRate: 0.003,
  dynamoLostResponseRate: 0.003,
  getRecordsThrottleRate: 0.03,
  functionTimeoutSeconds: 2,
  reshard: true,
};

const RATES = [
  'handlerErrorRate',
  'reportedFailureRate',
  'timeoutRate',
  'duplicateRate',
  'dynamoThrottleRate',
  'dynamoErrorRate',
  'dynamoLostResponseRate',
  'getRecordsThrottleRate',
] as const;

/** Applies defaults and checks every option; throws ConfigError listing each bad value with its rule. */
export function resolveChaosOptions(options: ChaosOptions = {}): ResolvedChaosOptions {
  const out: ResolvedChaosOptions = { ...CHAOS_DEFAULTS };
  const problems: string[] = [];
  for (const [key, value] of Object.entries(options) as [keyof ChaosOptions, unknown][]) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  if (!Number.isSafeInteger(out.seed))
    problems.push(`seed: must be an integer; received ${String(out.seed)}`);
  for (const key of RATES) {
    const v = out[key];
    if (typeof v !== 'number' || !(v >= 0 && v <= 0.5)) {
      problems.push(`${key}: must be between 0 and 0.5; received ${String(v)}`);
    }
  }
  const t = out.functionTimeoutSeconds;
  if (!Number.isInteger(t) || t < 1 || t > 60) {
    problems.push(`functionTimeoutSeconds: must be an integer between 1 and 60; received ${String(t)}`);
  }
  if (typeof out.reshard !== 'boolean')
    problems.push(`reshard: must be a boolean; received ${String(out.reshard)}`);
  if (problems.length > 0) throw new ConfigError(`invalid chaos options:\n  ${problems.join('\n  ')}`);
  return out;
}

/**
 * The config of a chaos run: the function timeout shortened so injected timeouts trigger, bisect and
 * ReportBatchItemFailures on, and no batch ever discarded (infinite retries, no record age), since the run
 * proves that nothing is lost.
 */
export function chaosConfig(config: ResolvedConfig, options: ResolvedChaosOptions): ResolvedConfig {
  return {
    ...config,
    eventSource: {
      ...config.eventSource,
      functionTimeoutSeconds: options.functionTimeoutSeconds,
      bisectBatchOnFunctionError: true,
      reportBatchItemFailures: true,
      maximumRetryAttempts: -1,
      maximumRecordAgeInSeconds: -1,
    },
  };
}
