/**
 * Reads the query catalog (`queries/catalog/*.sql`) at synth time: one Athena named query per file.
 * Each file starts with comment lines like `-- name: top_sources` and `-- description: ...`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ConfigError } from '../../../common/errors.ts';

/** One catalog query, as Athena's `AWS::Athena::NamedQuery` needs it. */
export interface CatalogQuery {
  /** From `-- name:`, else the file name without `.sql`; 1–128 characters. */
  readonly name: string;
  /** From `-- description:`, else `Shardline catalog query <file>`; at most 1024 characters. */
  readonly description: string;
  /** The whole file, comments included. */
  readonly sql: string;
  /** The file name, e.g. `top_sources.sql`. */
  readonly file: string;
}

const HEADER_RE = /^--\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$/;

/** Parses one catalog file's header comments (pure). */
export function parseCatalogQuery(file: string, sql: string): CatalogQuery {
  const header: Record<string, string> = {};
  for (const line of sql.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const m = HEADER_RE.exec(trimmed);
    if (!m) {
      if (trimmed.startsWith('--')) continue;
      break;
    }
    header[m[1]!.toLowerCase()] ??= m[2]!;
  }
  const name = header['name'] || basename(file, '.sql');
  const description = (header['description'] || `Shardline catalog query ${file}`).slice(0, 1024);
  if (name.length > 128) {
    throw new ConfigError(`${file}: "-- name:" must be 1-128 characters; received ${name.length}`);
  }
  if (sql.trim() === '') throw new ConfigError(`${file}: must contain a query; received an empty file`);
  return { name, description, sql, file };
}

/**
 * Reads every `.sql` file of `dir` in name order. A missing or empty folder yields no queries.
 * Throws {@link ConfigError} when two files declare the same name.
 */
export function readCatalog(dir: string): CatalogQuery[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const queries = files.map((f) => parseCatalogQuery(f, readFileSync(join(dir, f), 'utf8')));
  const seen = new Map<string, string>();
  for (const q of queries) {
    const other = seen.get(q.name);
    if (other) throw new ConfigError(`${q.file}: query name "${q.name}" is also used by ${other}`);
    seen.set(q.name, q.file);
  }
  return queries;
}
