/**
 * How Athena presents a result: each column's Trino type name (`ResultSetMetadata.ColumnInfo[].Type`) and
 * each cell as the string Trino renders (`Datum.VarCharValue`, absent for NULL). Pure functions from the
 * local engine's DuckDB types and JSON-friendly cells.
 */
import type { CellValue } from '../../../queries/engine/duckdb.ts';

/** A column as GetQueryResults describes it. */
export interface AthenaColumnInfo {
  readonly CatalogName: string;
  readonly SchemaName: string;
  readonly TableName: string;
  readonly Name: string;
  readonly Label: string;
  readonly Type: string;
  readonly Precision: number;
  readonly Scale: number;
  readonly Nullable: 'UNKNOWN';
  readonly CaseSensitive: boolean;
}

const SIMPLE: Record<string, string> = {
  BOOLEAN: 'boolean',
  TINYINT: 'tinyint',
  SMALLINT: 'smallint',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  // DuckDB widens sums of integers to 128 bits; Trino's sum of bigint is a bigint.
  HUGEINT: 'bigint',
  UTINYINT: 'smallint',
  USMALLINT: 'integer',
  UINTEGER: 'bigint',
  UBIGINT: 'decimal',
  FLOAT: 'real',
  DOUBLE: 'double',
  VARCHAR: 'varchar',
  BLOB: 'varbinary',
  DATE: 'date',
  TIME: 'time',
  TIMESTAMP: 'timestamp',
  TIMESTAMP_MS: 'timestamp',
  TIMESTAMP_NS: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamp with time zone',
  INTERVAL: 'interval day to second',
  UUID: 'uuid',
  JSON: 'json',
};

/** Trino's name for a DuckDB type (`BIGINT` → `bigint`, `MAP(VARCHAR, DOUBLE)` → `map(varchar, double)`). */
export function trinoType(duckdbType: string): string {
  const t = duckdbType.trim();
  const simple = SIMPLE[t.toUpperCase()];
  if (simple !== undefined) return simple;
  if (t.endsWith('[]')) return `array(${trinoType(t.slice(0, -2))})`;
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/i.exec(t);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  const map = /^MAP\((.*)\)$/i.exec(t);
  if (map) {
    const [k, v] = splitTop(map[1]!);
    return `map(${trinoType(k ?? 'VARCHAR')}, ${trinoType(v ?? 'VARCHAR')})`;
  }
  const struct = /^STRUCT\((.*)\)$/i.exec(t);
  if (struct) {
    const fields = splitTop(struct[1]!).map((f) => {
      const m = /^"?([^"\s]+)"?\s+(.*)$/.exec(f.trim());
      return m ? `${m[1]} ${trinoType(m[2]!)}` : trinoType(f);
    });
    return `row(${fields.join(', ')})`;
  }
  return 'varchar';
}

/** Splits `a, MAP(b, c), d` at its top-level commas. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(s.slice(start).trim());
  return out;
}

/** `ColumnInfo` for one result column. */
export function columnInfo(name: string, duckdbType: string): AthenaColumnInfo {
  const type = trinoType(duckdbType);
  const decimal = /^decimal\((\d+),(\d+)\)$/.exec(type);
  const precision: Record<string, number> = {
    tinyint: 3,
    smallint: 5,
    integer: 10,
    bigint: 19,
    real: 24,
    double: 53,
    boolean: 0,
    varchar: 2147483647,
    timestamp: 3,
    'timestamp with time zone': 3,
    date: 0,
  };
  return {
    CatalogName: 'hive',
    SchemaName: '',
    TableName: '',
    Name: name,
    Label: name,
    Type: decimal ? 'decimal' : type,
    Precision: decimal ? Number(decimal[1]) : (precision[type] ?? 0),
    Scale: decimal ? Number(decimal[2]) : 0,
    Nullable: 'UNKNOWN',
    CaseSensitive: type === 'varchar',
  };
}

/** `2026-11-22T10:00:00.000Z` → `2026-11-22 10:00:00.000` (Trino's timestamp(3) text). */
function timestampText(iso: string, withZone: boolean): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return iso;
  const text = `${m[1]} ${m[2]}.${`${m[3] ?? ''}000`.slice(0, 3)}`;
  return withZone ? `${text} UTC` : text;
}

function nested(v: CellValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(nested).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}=${nested(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/**
 * The text Trino gives a cell of this (Trino) type, or `undefined` for NULL (Athena then sends a `Datum`
 * without `VarCharValue`). Numbers keep their exact value (JavaScript's shortest round-trip form, which
 * Trino's `1.0E10` style also parses to); maps are `{k=v, ...}`, arrays `[a, b]`, as Athena shows them.
 */
export function cellText(type: string, value: CellValue): string | undefined {
  if (value === null) return undefined;
  if (type === 'timestamp' && typeof value === 'string') return timestampText(value, false);
  if (type === 'timestamp with time zone' && typeof value === 'string') return timestampText(value, true);
  if (type === 'date' && typeof value === 'string') return value.slice(0, 10);
  if (typeof value === 'object') return nested(value);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (value === Number.POSITIVE_INFINITY) return 'Infinity';
    if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  }
  return String(value);
}
