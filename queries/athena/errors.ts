/**
 * Errors of the Athena client. Both extend {@link QueryExecutionError} (code `QUERY_FAILED`).
 */
import { QueryExecutionError } from '../errors.ts';
import type { QueryCost } from './pricing.ts';

/** Athena ran the query and reported FAILED; `reason` is its `Status.StateChangeReason`. */
export class AthenaQueryFailedError extends QueryExecutionError {
  readonly queryExecutionId: string;
  readonly reason: string;
  /** `Status.AthenaError.ErrorCategory` (1 system, 2 user, 3 other), when given. */
  readonly errorCategory: number | undefined;
  constructor(queryExecutionId: string, reason: string, errorCategory?: number) {
    super(`Athena query ${queryExecutionId} failed: ${reason}`);
    this.queryExecutionId = queryExecutionId;
    this.reason = reason;
    this.errorCategory = errorCategory;
  }
}

/**
 * The query ended CANCELLED: stopped by us (abort signal, Ctrl-C), by someone else, or by the workgroup's
 * `BytesScannedCutoffPerQuery`. Cancelled queries are billed for what they scanned: see `cost`.
 */
export class AthenaQueryCancelledError extends QueryExecutionError {
  readonly queryExecutionId: string;
  /** True when this client asked for the stop (StopQueryExecution after an abort). */
  readonly stoppedByUs: boolean;
  readonly cost: QueryCost;
  constructor(queryExecutionId: string, reason: string, stoppedByUs: boolean, cost: QueryCost) {
    super(`Athena query ${queryExecutionId} was cancelled: ${reason}`);
    this.queryExecutionId = queryExecutionId;
    this.stoppedByUs = stoppedByUs;
    this.cost = cost;
  }
}

/** The query did not reach a final state within the caller's time limit; it was asked to stop. */
export class AthenaQueryTimeoutError extends QueryExecutionError {
  readonly queryExecutionId: string;
  readonly timeoutMs: number;
  constructor(queryExecutionId: string, timeoutMs: number, lastState: string) {
    super(
      `Athena query ${queryExecutionId} did not finish within ${timeoutMs} ms (last state ${lastState}); it was stopped. Look it up with: aws athena get-query-execution --query-execution-id ${queryExecutionId}`,
    );
    this.queryExecutionId = queryExecutionId;
    this.timeoutMs = timeoutMs;
  }
}
