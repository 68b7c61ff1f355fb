/**
 * Errors of the queries area. All extend {@link ShardlineError}.
 */
import { ShardlineError, UsageError } from '../common/errors.ts';

/** A catalog file is malformed, or a query was given bad parameters (a usage error: code `USAGE`). */
export class QueryDefinitionError extends UsageError {}

/** The SQL engine rejected or failed a query. */
export class QueryExecutionError extends ShardlineError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('QUERY_FAILED', message, options);
  }
}
