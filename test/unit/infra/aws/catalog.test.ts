import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../common/errors.ts';
import { parseCatalogQuery, readCatalog } from '../../../../infra/aws/lib/catalog.ts';
import { REPO_ROOT } from '../../../../infra/aws/lib/shardline-stack.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'shardline-catalog-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('parseCatalogQuery', () => {
  it('reads name and description from the leading comments', () => {
    const q = parseCatalogQuery(
      'x.sql',
      '-- name: top_sources\n-- description: Top 10 sources\n-- other: y\nSELECT 1\n-- name: ignored',
    );
    expect(q).toMatchObject({ name: 'top_sources', description: 'Top 10 sources', file: 'x.sql' });
  });

  it('falls back to the file name and a generic description', () => {
    expect(parseCatalogQuery('hourly.sql', 'SELECT 1')).toMatchObject({
      name: 'hourly',
      description: 'Shardline catalog query hourly.sql',
    });
  });

  it('rejects an empty file and an over-long name', () => {
    expect(() => parseCatalogQuery('e.sql', '  \n')).toThrow(ConfigError);
    expect(() => parseCatalogQuery('l.sql', `-- name: ${'n'.repeat(129)}\nSELECT 1`)).toThrow('received 129');
  });
});

describe('readCatalog', () => {
  it('tolerates a missing or empty folder', () => {
    expect(readCatalog(join(tmpdir(), 'no-such-shardline-folder'))).toEqual([]);
    expect(readCatalog(tempDir())).toEqual([]);
  });

  it('reads .sql files in name order and rejects duplicate names', () => {
    const d = tempDir();
    writeFileSync(join(d, 'b.sql'), '-- name: b\nSELECT 2');
    writeFileSync(join(d, 'a.sql'), '-- name: a\nSELECT 1');
    writeFileSync(join(d, 'README.md'), '# not a query');
    expect(readCatalog(d).map((q) => q.name)).toEqual(['a', 'b']);
    writeFileSync(join(d, 'c.sql'), '-- name: a\nSELECT 3');
    expect(() => readCatalog(d)).toThrow('query name "a" is also used by a.sql');
  });

  it('parses every file of the real catalog', () => {
    const queries = readCatalog(join(REPO_ROOT, 'queries', 'catalog'));
    expect(new Set(queries.map((q) => q.name)).size).toBe(queries.length);
  });
});
