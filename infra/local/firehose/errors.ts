/** Errors of the local Firehose. */
import { ShardlineError } from '../../../common/errors.ts';

/** A delivery stream setting (prefix, buffering hint) is invalid: the message shows the value and the rule. */
export class FirehoseConfigError extends ShardlineError {
  constructor(message: string) {
    super('FIREHOSE_CONFIG_INVALID', message);
  }
}

/** `drain()` did not reach the tip of the source stream and deliver everything in time. */
export class FirehoseDrainTimeoutError extends ShardlineError {
  constructor(message: string) {
    super('FIREHOSE_DRAIN_TIMEOUT', message, { retryable: true });
  }
}

/** The local Firehose was used after `stop()`. */
export class FirehoseStoppedError extends ShardlineError {
  constructor(message: string) {
    super('FIREHOSE_STOPPED', message);
  }
}
