/**
 * What the event source mapping does after an invocation, as a pure function: the outcome of the invocation,
 * the batch it was given, the mapping's settings and a clock in; checkpoint, retry, bisect or discard out.
 *
 * Lambda's rules for Kinesis sources (AWS Lambda Developer Guide, "Using Lambda with Kinesis", error
 * handling and ReportBatchItemFailures):
 * - A success checkpoints the whole batch.
 * - A partial failure (ReportBatchItemFailures) checkpoints the records before the lowest failed sequence
 *   number; the retry starts at that record, so the batch is already split and is not bisected.
 * - A function error (throw or timeout) or an unreadable response fails the whole batch.
 * - A failed batch whose oldest record is older than MaximumRecordAgeInSeconds is discarded to the OnFailure
 *   destination (`RecordAgeExceeded`); otherwise, with BisectBatchOnFunctionError, a batch of two or more
 *   records is split in two halves, each keeping the retry count; otherwise, after MaximumRetryAttempts
 *   retries the batch is discarded (`RetryAttemptsExhausted`); otherwise it is retried after a backoff that
 *   doubles per retry, capped at 30 s. `-1` means infinite for both the age and the retry limits.
 */
import type { OnFailureCondition, PolledRecord } from '../private/event.ts';

/** A batch invoked at least once and not yet settled (a bisect makes two). */
export interface Piece {
  readonly records: readonly PolledRecord[];
  /** Re-invocations of this piece so far (approximateInvokeCount - 1). */
  readonly retries: number;
  /** Already delivered a second time by the `duplicateDelivery` fault hook. */
  duplicated?: boolean;
}

/** How an invocation ended, as the mapping saw it. */
export type InvokeOutcome =
  | { readonly kind: 'success' }
  /** Records from `index` on failed (ReportBatchItemFailures). */
  | { readonly kind: 'partial'; readonly index: number }
  /** The response could not be read as a batch response: the whole batch failed. */
  | { readonly kind: 'invalid'; readonly reason: string }
  /** The function threw or timed out. */
  | { readonly kind: 'error'; readonly message: string; readonly timeout: boolean };

/** The settings the failure policy reads. */
export interface FailureSettings {
  /** Seconds, or -1 for no limit. */
  readonly maximumRecordAgeInSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  /** Retries before a discard, or -1 for no limit. */
  readonly maximumRetryAttempts: number;
  /** First retry delay in ms, doubled per retry up to 30 s. */
  readonly retryBackoffMs: number;
}

/** The longest retry backoff, in ms. */
export const MAX_RETRY_BACKOFF_MS = 30_000;

/**
 * What to do with the piece at the head of the shard's queue. `succeeded` (partial failures only) are the
 * records before the failed one: checkpoint them first.
 */
export type Decision =
  /** The whole piece succeeded: checkpoint it. */
  | { readonly kind: 'checkpoint' }
  /** Invoke `piece` again after `delayMs`. */
  | {
      readonly kind: 'retry';
      readonly succeeded: readonly PolledRecord[];
      readonly piece: Piece;
      readonly delayMs: number;
    }
  /** Replace the piece by these two halves, invoked in order without a delay. */
  | { readonly kind: 'bisect'; readonly pieces: readonly [Piece, Piece] }
  /** Send `piece` to the OnFailure destination, then checkpoint past it. */
  | {
      readonly kind: 'discard';
      readonly succeeded: readonly PolledRecord[];
      readonly piece: Piece;
      readonly condition: OnFailureCondition;
      readonly functionError: boolean;
    };

/** Decides what follows `outcome` for `piece`. Reads `clock` only when the piece failed. */
export function decide(
  outcome: InvokeOutcome,
  piece: Piece,
  settings: FailureSettings,
  clock: () => number,
): Decision {
  switch (outcome.kind) {
    case 'success':
      return { kind: 'checkpoint' };
    case 'partial':
      return afterFailure(
        { records: piece.records.slice(outcome.index), retries: piece.retries },
        piece.records.slice(0, outcome.index),
        settings,
        clock,
        false,
        false,
      );
    case 'invalid':
      return afterFailure(piece, [], settings, clock, false, true);
    case 'error':
      return afterFailure(piece, [], settings, clock, true, true);
  }
}

/** The retry delay before re-invocation number `retries + 1`. */
export function retryDelayMs(retryBackoffMs: number, retries: number): number {
  return Math.min(MAX_RETRY_BACKOFF_MS, retryBackoffMs * 2 ** retries);
}

/**
 * After a failure of `failed` (holding only the failed records): discard for age, bisect, discard for
 * exhausted retries, or retry after a backoff, in that order.
 */
function afterFailure(
  failed: Piece,
  succeeded: readonly PolledRecord[],
  settings: FailureSettings,
  clock: () => number,
  functionError: boolean,
  canBisect: boolean,
): Decision {
  const oldest = failed.records[0];
  const now = clock();
  if (
    oldest !== undefined &&
    settings.maximumRecordAgeInSeconds !== -1 &&
    now - oldest.arrivalMs > settings.maximumRecordAgeInSeconds * 1000
  ) {
    return { kind: 'discard', succeeded, piece: failed, condition: 'RecordAgeExceeded', functionError };
  }
  if (canBisect && settings.bisectBatchOnFunctionError && failed.records.length > 1) {
    const mid = Math.ceil(failed.records.length / 2);
    return {
      kind: 'bisect',
      pieces: [
        { records: failed.records.slice(0, mid), retries: failed.retries },
        { records: failed.records.slice(mid), retries: failed.retries },
      ],
    };
  }
  if (settings.maximumRetryAttempts !== -1 && failed.retries >= settings.maximumRetryAttempts) {
    return { kind: 'discard', succeeded, piece: failed, condition: 'RetryAttemptsExhausted', functionError };
  }
  return {
    kind: 'retry',
    succeeded,
    piece: { records: failed.records, retries: failed.retries + 1 },
    delayMs: retryDelayMs(settings.retryBackoffMs, failed.retries),
  };
}
