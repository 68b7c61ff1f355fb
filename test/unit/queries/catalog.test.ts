import { describe, expect, it } from 'vitest';
import {
  loadCatalog,
  parseCatalogSql,
  parseParamAssignments,
  renderQuery,
} from '../../../queries/catalog.ts';

const SQL = `-- name: demo
-- description: A demo.
-- param: from timestamp (required) Start.
-- param: to timestamp (default -1h) End.
-- param: who string (default it's) Name.
-- param: n integer (default 5) Rows.
-- param: x number (default 1.5) Factor.
-- a free comment line
SELECT {{who}} AS who, {{ n }} * {{x}} AS k FROM events WHERE ts >= {{from}} AND ts < {{to}};
`;
const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

describe('parseCatalogSql', () => {
  it('parses the header and renders typed literals', () => {
    const q = parseCatalogSql(SQL);
    expect(q.name).toBe('demo');
    expect(q.description).toBe('A demo.');
    expect(q.params.map((p) => [p.name, p.type, p.required, p.default])).toEqual([
      ['from', 'timestamp', true, undefined],
      ['to', 'timestamp', false, '-1h'],
      ['who', 'string', false, "it's"],
      ['n', 'integer', false, '5'],
      ['x', 'number', false, '1.5'],
    ]);
    expect(renderQuery(q, { from: '2026-01-01T00:00:00Z' }, NOW)).toBe(
      "SELECT 'it''s' AS who, 5 * 1.5 AS k FROM events WHERE ts >= TIMESTAMP '2026-01-01 00:00:00.000' AND ts < TIMESTAMP '2026-01-02 02:04:05.678'",
    );
  });

  it('rejects malformed headers and values with the value received', () => {
    expect(() => parseCatalogSql('-- name: Bad\nSELECT 1')).toThrow(
      /must match \[a-z\]\[a-z0-9_\]\*; received "Bad"/,
    );
    expect(() => parseCatalogSql('-- name: a\n-- param: x date (required)\nSELECT {{x}}')).toThrow(
      /received "date"/,
    );
    expect(() => parseCatalogSql('-- name: a\nSELECT {{y}}')).toThrow(/\{\{y\}\} is used but not declared/);
    expect(() => parseCatalogSql('-- name: a\n-- param: y integer (default 1)\nSELECT 1')).toThrow(
      /never used/,
    );
    expect(() => parseCatalogSql('-- name: a\n-- param: y integer (default z)\nSELECT {{y}}')).toThrow(
      /must be an integer; received "z"/,
    );
    const q = parseCatalogSql(SQL);
    expect(() => renderQuery(q, {}, NOW)).toThrow(/needs --param from=<timestamp>/);
    expect(() => renderQuery(q, { from: 'yesterday' }, NOW)).toThrow(
      /param from must be ISO-8601.*received "yesterday"/,
    );
    expect(() => renderQuery(q, { from: 'now', nope: '1' }, NOW)).toThrow(/has no param "nope"/);
    expect(() => renderQuery(q, { from: 'now', x: 'NaN' }, NOW)).toThrow(/finite number; received "NaN"/);
  });

  it('parses --param assignments', () => {
    expect(parseParamAssignments(['a=1', 'b=x=y'])).toEqual({ a: '1', b: 'x=y' });
    expect(() => parseParamAssignments(['=1'])).toThrow(/name=value; received "=1"/);
  });
});

describe('built-in catalog', () => {
  it('has at least 8 queries, each described and pruning dt partitions by its time range', () => {
    const catalog = loadCatalog();
    expect(catalog.length).toBeGreaterThanOrEqual(8);
    for (const q of catalog) {
      expect(q.description, q.name).not.toBe('');
      expect(q.body, q.name).toMatch(/dt BETWEEN date_format\(\{\{from\}\}/);
      expect(
        q.params.find((p) => p.name === 'from'),
        `${q.name} takes a time range`,
      ).toBeDefined();
      expect(q.body, `${q.name} must stay Trino SQL`).not.toMatch(/::|\bstrftime\b|\bepoch_ms\b/);
    }
  });
});
