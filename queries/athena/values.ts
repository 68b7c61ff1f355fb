/**
 * Athena returns every cell as a string (`VarCharValue`, absent for NULL); the column's `ColumnInfo.Type`
 * says what it is. These pure functions turn a page of `ResultSet` rows into typed rows shaped like the local
 * engine's (`Row`), so both engines print and compare alike.
 */
import type { Row as AthenaRow, ColumnInfo } from '@aws-sdk/client-athena';
import type { CellValue, Row } from '../engine/duckdb.ts';

/** Name and Athena type of a result column. */
export interface AthenaColumn {
  readonly name: string;
  /** Lower-case Athena (Trino) type without parameters, e.g. `varchar`, `decimal`, `map`. */
  readonly type: string;
}

/** Columns from `ResultSetMetadata.ColumnInfo`. */
export function columnsOf(info: readonly ColumnInfo[] | undefined): AthenaColumn[] {
  return (info ?? []).map((c, i) => ({
    name: c.Name ?? c.Label ?? `_col${i}`,
    type: (c.Type ?? 'varchar').toLowerCase().replace(/\(.*$/, '').trim(),
  }));
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint']);
const FLOAT_TYPES = new Set(['double', 'float', 'real']);

/** `2026-11-22 10:00:00.000` (optionally with ` UTC` or an offset) → ISO-8601 UTC; unparsable → as given. */
function timestampToIso(v: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?:\s*(UTC|Z|[+-]\d{2}:?\d{2}))?$/.exec(
    v.trim(),
  );
  if (!m) return v;
  const [, date, time, zone] = m as unknown as [string, string, string, string | undefined];
  const frac = /\.(\d+)$/.exec(time)?.[1] ?? '';
  const whole = time.replace(/\.\d+$/, '');
  const ms = `${frac}000`.slice(0, 3);
  const offset = zone === undefined || zone === 'UTC' || zone === 'Z' ? 'Z' : zone;
  const parsed = Date.parse(`${date}T${whole}.${ms}${offset}`);
  return Number.isFinite(parsed) ? new Date(parsed).toISOString() : v;
}

/**
 * One cell as a typed value. NULL (no `VarCharValue`) → null; integers → number (bigint beyond 2^53 stays a
 * string); double/real → number (`NaN`, `Infinity` included); decimal → number when it has at most 15
 * significant digits, else the exact string; boolean → boolean; timestamp → ISO-8601 UTC; date and
 * everything else (varchar, map, array, row, json, varbinary) → the string as Athena rendered it.
 */
export function toTypedCell(type: string, value: string | undefined): CellValue {
  if (value === undefined) return null;
  if (INTEGER_TYPES.has(type)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value;
  }
  if (FLOAT_TYPES.has(type)) {
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    const n = Number(value);
    return Number.isNaN(n) ? value : n;
  }
  if (type === 'decimal') {
    const digits = value.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
    const n = Number(value);
    return digits.length <= 15 && Number.isFinite(n) ? n : value;
  }
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  if (type === 'timestamp' || type === 'timestamp with time zone') return timestampToIso(value);
  return value;
}

/**
 * Converts one page of result rows. `skipHeader` drops row 0: for a SELECT, the first page's first row
 * holds the column labels (later pages have none).
 */
export function typedRows(
  columns: readonly AthenaColumn[],
  rows: readonly AthenaRow[] | undefined,
  skipHeader: boolean,
): Row[] {
  const out: Row[] = [];
  (rows ?? []).forEach((r, i) => {
    if (skipHeader && i === 0) return;
    const row: Row = {};
    columns.forEach((c, j) => {
      row[c.name] = toTypedCell(c.type, r.Data?.[j]?.VarCharValue);
    });
    out.push(row);
  });
  return out;
}
