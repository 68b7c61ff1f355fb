import { ShardlineError } from '../../common/errors.ts';

/** An ingest endpoint option is out of range: the message names it, the rule and the value received. */
export class IngestOptionsError extends ShardlineError {
  constructor(message: string) {
    super('INGEST_OPTIONS_INVALID', message);
  }
}
