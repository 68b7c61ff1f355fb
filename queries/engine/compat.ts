/**
 * The thin compatibility layer that lets the catalog's Athena (Trino) SQL run unchanged on DuckDB:
 * one macro per Trino function the catalog uses whose DuckDB namesake is missing or differs.
 *
 * Locally the "approximate" aggregates are exact (DuckDB's exact quantile and distinct count), so tests can
 * assert exact answers; on Athena they carry Trino's documented error bounds.
 */
export const TRINO_COMPAT_MACROS: readonly string[] = [
  // Trino: value for the key, NULL when missing. DuckDB's element_at on a MAP returns a list.
  'CREATE OR REPLACE MACRO element_at(m, k) AS m[k]',
  // Trino (MySQL-style) format; the catalog only uses %Y %m %d %H, which strftime shares.
  'CREATE OR REPLACE MACRO date_format(t, f) AS strftime(t, f)',
  'CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)',
  'CREATE OR REPLACE MACRO to_unixtime(t) AS epoch(t)',
  'CREATE OR REPLACE MACRO approx_distinct(x) AS count(DISTINCT x)',
  'CREATE OR REPLACE MACRO approx_percentile(x, p) AS quantile_cont(x, p)',
];
