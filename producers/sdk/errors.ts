/**
 * Errors the producer throws. Per-record delivery failures are never thrown: they are reported as values
 * through `onFailure` and the counters; these errors are for calls that cannot be accepted at all.
 */

import type { QuarantineReason } from '../../common/envelope.ts';
import { ShardlineError } from '../../common/errors.ts';

/** `send()` was given an event that the v1 envelope schema rejects. Nothing was buffered. */
export class InvalidEventError extends ShardlineError {
  /** Machine-readable reason, as the processor would quarantine it. */
  readonly reason: QuarantineReason;
  /** What was received and what was expected, per offending field. */
  readonly detail: string;
  constructor(reason: QuarantineReason, detail: string) {
    super('EVENT_INVALID', `invalid event (${reason}): ${detail}`);
    this.reason = reason;
    this.detail = detail;
  }
}

/** A record breaks a Kinesis per-record limit (data size, partition key length, explicit hash key). */
export class InvalidRecordError extends ShardlineError {
  constructor(message: string) {
    super('RECORD_INVALID', message);
  }
}

/** The buffer holds `maxBufferedRecords` and the policy is `reject`. Retry later. */
export class BufferFullError extends ShardlineError {
  constructor(limit: number) {
    super('BUFFER_FULL', `producer buffer is full (${limit} records accepted and not yet delivered)`, {
      retryable: true,
    });
  }
}

/** `send()` after `close()`. */
export class ProducerClosedError extends ShardlineError {
  constructor() {
    super('PRODUCER_CLOSED', 'producer is closed; create a new Producer to send more records');
  }
}
