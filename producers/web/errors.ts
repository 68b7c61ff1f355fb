import { ShardlineError } from '../../common/errors.ts';

/** A bad `track()` call or option: the message names the field, the rule and the value received. */
export class TrackerError extends ShardlineError {
  constructor(message: string) {
    super('TRACKER_INVALID', message);
  }
}

/** A batch the tracker gave up on (reported through `onError`, never thrown). */
export class DeliveryError extends ShardlineError {
  /** Events in the batch given up on. */
  readonly events: number;
  /** HTTP status of the last answer, or null after a network error. */
  readonly status: number | null;
  constructor(message: string, events: number, status: number | null, retryable: boolean) {
    super('TRACKER_DELIVERY_FAILED', message, { retryable });
    this.events = events;
    this.status = status;
  }
}
