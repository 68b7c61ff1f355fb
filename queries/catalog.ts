/**
 * The query catalog: `.sql` files in Athena's (Trino) dialect under `queries/catalog/`, each starting with a
 * header of `--` comment lines:
 *
 * ```sql
 * -- name: events_per_minute
 * -- description: Events per minute by type.
 * -- param: from timestamp (required) Start of the event-time range (inclusive).
 * -- param: to timestamp (default now) End of the event-time range (exclusive).
 * -- param: limit integer (default 100) Rows to return.
 * SELECT ... WHERE dt BETWEEN date_format({{from}} - INTERVAL '1' HOUR, '%Y-%m-%d-%H') AND ...
 * ```
 *
 * Parameter types: `timestamp` (ISO-8601, epoch ms, `now` or relative like `-1h`; rendered as
 * `TIMESTAMP 'YYYY-MM-DD HH:MM:SS.fff'` in UTC), `string` (rendered as a quoted literal), `integer`, `number`.
 * The body refers to them as `{{name}}`; rendering substitutes literals, so the same text runs on DuckDB and
 * on Athena. Parsing and rendering are pure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeValue } from '../common/errors.ts';
import { QueryDefinitionError } from './errors.ts';

export const PARAM_TYPES = ['timestamp', 'string', 'integer', 'number'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly required: boolean;
  /** Default as written in the header (parsed like a user value when used). */
  readonly default?: string;
  readonly description: string;
}

export interface CatalogQuery {
  readonly name: string;
  readonly description: string;
  readonly params: readonly ParamSpec[];
  /** SQL text after the header, with `{{param}}` placeholders. */
  readonly body: string;
  /** File it came from, if any. */
  readonly file?: string;
}

/** Folder of the built-in catalog. */
export const CATALOG_DIR = join(dirname(fileURLToPath(import.meta.url)), 'catalog');

const NAME_RE = /^[a-z][a-z0-9_]*$/;
const PARAM_RE = /^(\S+)\s+(\S+)\s+\((required|default\s+([^)]*))\)\s*(.*)$/;
const PLACEHOLDER_RE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** Parses one catalog file's text. `fallbackName` names a file without a `-- name:` line. */
export function parseCatalogSql(text: string, source = '(inline)', fallbackName?: string): CatalogQuery {
  const lines = text.split(/\r?\n/);
  let name: string | undefined;
  let description = '';
  const params: ParamSpec[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const m = /^--\s*([a-z]+):\s*(.*)$/.exec(line);
    if (!m) {
      if (line.startsWith('--')) continue;
      break;
    }
    const [, key, value] = m as unknown as [string, string, string];
    const where = `${source} line ${i + 1}`;
    if (key === 'name') name = value.trim();
    else if (key === 'description') description = value.trim();
    else if (key === 'param') {
      const p = PARAM_RE.exec(value.trim());
      if (!p) {
        throw new QueryDefinitionError(
          `${where}: param must look like "name type (required|default VALUE) description"; received ${describeValue(value)}`,
        );
      }
      const [, pname, ptype, req, def, desc] = p as unknown as [
        string,
        string,
        string,
        string,
        string | undefined,
        string,
      ];
      if (!NAME_RE.test(pname)) {
        throw new QueryDefinitionError(
          `${where}: param name must match [a-z][a-z0-9_]*; received ${describeValue(pname)}`,
        );
      }
      if (!(PARAM_TYPES as readonly string[]).includes(ptype)) {
        throw new QueryDefinitionError(
          `${where}: param type must be one of ${PARAM_TYPES.join(', ')}; received ${describeValue(ptype)}`,
        );
      }
      if (params.some((q) => q.name === pname))
        throw new QueryDefinitionError(`${where}: duplicate param "${pname}"`);
      const spec: ParamSpec =
        req === 'required'
          ? { name: pname, type: ptype as ParamType, required: true, description: desc.trim() }
          : {
              name: pname,
              type: ptype as ParamType,
              required: false,
              default: (def ?? '').trim(),
              description: desc.trim(),
            };
      if (spec.default !== undefined) renderParam(spec, spec.default, 0); // validate the default eagerly
      params.push(spec);
    }
  }
  name ??= fallbackName;
  if (name === undefined || !NAME_RE.test(name)) {
    throw new QueryDefinitionError(
      `${source}: "-- name:" must match [a-z][a-z0-9_]*; received ${describeValue(name)}`,
    );
  }
  const body = lines.slice(i).join('\n').trim().replace(/;\s*$/, '');
  if (body === '') throw new QueryDefinitionError(`${source}: no SQL after the header`);
  const used = new Set([...body.matchAll(PLACEHOLDER_RE)].map((m) => m[1]!));
  for (const u of used) {
    if (!params.some((p) => p.name === u)) {
      throw new QueryDefinitionError(`${source}: {{${u}}} is used but not declared with "-- param:"`);
    }
  }
  for (const p of params) {
    if (!used.has(p.name))
      throw new QueryDefinitionError(`${source}: param "${p.name}" is declared but never used`);
  }
  return { name, description, params, body, file: source };
}

/** Reads every `.sql` file of `dir` (default: the built-in catalog), sorted by name. */
export function loadCatalog(dir: string = CATALOG_DIR): CatalogQuery[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => loadCatalogFile(join(dir, f)));
}

export function loadCatalogFile(file: string): CatalogQuery {
  return parseCatalogSql(readFileSync(file, 'utf8'), file, basename(file, '.sql'));
}

/**
 * Parses a timestamp value: ISO-8601 (starting `YYYY-MM-DD`), epoch ms (up to 15 digits), `now`, or relative
 * to now like `-90s`, `-30m`, `-1h`, `-2d`. The one time parser of the CLI, the dashboard and query params.
 */
export function parseTimestamp(value: string, now: number): number | undefined {
  const v = value.trim();
  if (v === 'now') return now;
  const rel = /^-(\d{1,9})([smhd])$/.exec(v);
  if (rel) return now - Number(rel[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's']!;
  if (/^\d{1,15}$/.test(v)) return Number(v);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** A SQL string literal (single quotes doubled): the same in DuckDB and Athena (Trino). */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A SQL TIMESTAMP literal of an instant, in UTC (DuckDB and Athena). */
export function timestampLiteral(ms: number): string {
  return `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;
}

/** Renders one value as a SQL literal of the param's type, or throws a message naming the rule. */
export function renderParam(spec: ParamSpec, value: string, now: number): string {
  switch (spec.type) {
    case 'timestamp': {
      const ms = parseTimestamp(value, now);
      if (ms === undefined) {
        throw new QueryDefinitionError(
          `param ${spec.name} must be ISO-8601, epoch ms, "now" or relative like -1h; received ${describeValue(value)}`,
        );
      }
      return timestampLiteral(ms);
    }
    case 'integer':
      if (!/^-?\d{1,15}$/.test(value.trim())) {
        throw new QueryDefinitionError(
          `param ${spec.name} must be an integer; received ${describeValue(value)}`,
        );
      }
      return String(Number(value));
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) {
        throw new QueryDefinitionError(
          `param ${spec.name} must be a finite number; received ${describeValue(value)}`,
        );
      }
      return String(n);
    }
    case 'string':
      return sqlString(value);
  }
}

/**
 * Substitutes parameter values (strings as the user typed them) into the query body.
 * Unknown names, missing required values and malformed values throw {@link QueryDefinitionError}.
 */
export function renderQuery(
  query: CatalogQuery,
  values: Readonly<Record<string, string>> = {},
  now: number = Date.now(),
): string {
  for (const k of Object.keys(values)) {
    if (!query.params.some((p) => p.name === k)) {
      const known = query.params.map((p) => p.name).join(', ') || '(none)';
      throw new QueryDefinitionError(`query ${query.name} has no param "${k}"; its params are ${known}`);
    }
  }
  const literals = new Map<string, string>();
  for (const p of query.params) {
    const raw = values[p.name] ?? p.default;
    if (raw === undefined) {
      throw new QueryDefinitionError(
        `query ${query.name} needs --param ${p.name}=<${p.type}> (${p.description})`,
      );
    }
    literals.set(p.name, renderParam(p, raw, now));
  }
  return query.body.replace(PLACEHOLDER_RE, (_, name: string) => literals.get(name)!);
}

/** Parses `k=v` strings (CLI `--param`) into a record; throws on a malformed one. */
export function parseParamAssignments(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new QueryDefinitionError(`--param must look like name=value; received ${describeValue(pair)}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
