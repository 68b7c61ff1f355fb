/**
 * What an Athena query costs: the price of data scanned, with Athena's rounding rules.
 *
 * The price is `PRICES.athena` in infra/aws/prices.ts (the one dated price list, also behind `shardline
 * cost`), from https://aws.amazon.com/athena/pricing/ (SQL queries, per TB of data scanned): "$5.00 per TB
 * of data scanned ... rounded up to the nearest megabyte, with a 10 MB minimum per query". Failed queries
 * are not charged; cancelled queries are charged for what they scanned.
 *
 * Units are binary (1 MB = 2^20 bytes, 1 TB = 2^40 bytes), as AWS bills data volumes.
 */
import { PRICES, PRICES_AS_OF, PRICES_REGION } from '../../infra/aws/prices.ts';

/** Date the price below was read from the public pricing page. */
export const ATHENA_PRICE_AS_OF = PRICES_AS_OF;
/** Where it was read. */
export const ATHENA_PRICE_SOURCE = `https://aws.amazon.com/athena/pricing/ (${PRICES_REGION}, SQL queries)`;
/** USD per TB (2^40 bytes) scanned. */
export const ATHENA_USD_PER_TB = PRICES.athena.perTBScanned;
/** Billing granularity: scanned bytes are rounded up to whole MB (2^20 bytes). */
export const ATHENA_BILLING_UNIT_BYTES = 2 ** 20;
/** Minimum billed per charged query: 10 MB. */
export const ATHENA_MIN_BILLED_BYTES = 10 * 2 ** 20;

const TB = 2 ** 40;

export interface QueryCost {
  /** Bytes the engine read (Athena's `Statistics.DataScannedInBytes`, or DuckDB's bytes read). */
  readonly bytesScanned: number;
  /** Bytes billed: rounded up per MB, at least 10 MB; 0 when the query is not charged. */
  readonly billedBytes: number;
  /** USD at {@link ATHENA_USD_PER_TB}. */
  readonly usd: number;
}

/**
 * The cost of one query that scanned `bytesScanned`. Pure.
 *
 * `charged` is false for queries Athena does not bill (FAILED ones). A query that scanned nothing (DDL,
 * metadata-only) costs nothing; any other charged query is billed at least 10 MB.
 *
 * @example
 * ```ts
 * athenaQueryCost(1).billedBytes; // 10485760 (the 10 MB minimum)
 * athenaQueryCost(2 ** 40).usd; // 5
 * ```
 */
export function athenaQueryCost(bytesScanned: number, charged = true): QueryCost {
  if (!Number.isFinite(bytesScanned) || bytesScanned < 0) {
    throw new RangeError(`bytesScanned must be a finite number >= 0; received ${bytesScanned}`);
  }
  if (!charged || bytesScanned === 0) return { bytesScanned, billedBytes: 0, usd: 0 };
  const rounded = Math.ceil(bytesScanned / ATHENA_BILLING_UNIT_BYTES) * ATHENA_BILLING_UNIT_BYTES;
  const billedBytes = Math.max(ATHENA_MIN_BILLED_BYTES, rounded);
  return { bytesScanned, billedBytes, usd: (billedBytes / TB) * ATHENA_USD_PER_TB };
}
