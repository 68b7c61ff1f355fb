/** Public surface of the Athena client: run catalog SQL on Athena with typed rows, cancellation and cost. */
export {
  type AthenaClientOptions,
  type AthenaQueryOptions,
  type AthenaQueryResult,
  type AthenaQueryStats,
  athenaClient,
  pollDelay,
  resolvePolling,
  runAthenaQuery,
} from './client.ts';
export { AthenaQueryCancelledError, AthenaQueryFailedError, AthenaQueryTimeoutError } from './errors.ts';
export {
  ATHENA_BILLING_UNIT_BYTES,
  ATHENA_MIN_BILLED_BYTES,
  ATHENA_PRICE_AS_OF,
  ATHENA_PRICE_SOURCE,
  ATHENA_USD_PER_TB,
  athenaQueryCost,
  type QueryCost,
} from './pricing.ts';
export { type AthenaColumn, columnsOf, toTypedCell, typedRows } from './values.ts';
