import { describe, expect, it } from 'vitest';
import { cellText, columnInfo, trinoType } from '../../../../infra/local/athena/render.ts';
import { athenaReason, statementTypeOf } from '../../../../infra/local/athena/service.ts';
import { toTypedCell } from '../../../../queries/athena/values.ts';

describe('local Athena result rendering', () => {
  it('names DuckDB types as Trino does', () => {
    expect(trinoType('BIGINT')).toBe('bigint');
    expect(trinoType('HUGEINT')).toBe('bigint');
    expect(trinoType('DOUBLE')).toBe('double');
    expect(trinoType('VARCHAR')).toBe('varchar');
    expect(trinoType('TIMESTAMP WITH TIME ZONE')).toBe('timestamp with time zone');
    expect(trinoType('DECIMAL(10,2)')).toBe('decimal(10,2)');
    expect(trinoType('MAP(VARCHAR, DOUBLE)')).toBe('map(varchar, double)');
    expect(trinoType('MAP(VARCHAR, MAP(VARCHAR, BIGINT))')).toBe('map(varchar, map(varchar, bigint))');
    expect(trinoType('INTEGER[]')).toBe('array(integer)');
    expect(trinoType('STRUCT("x" INTEGER, "y" VARCHAR)')).toBe('row(x integer, y varchar)');
    expect(columnInfo('p', 'DECIMAL(10,2)')).toMatchObject({ Type: 'decimal', Precision: 10, Scale: 2 });
  });

  it('renders cells so the Athena client reads back the values the local engine produced', () => {
    const cases: [string, Parameters<typeof cellText>[1]][] = [
      ['bigint', 9_007_199_254_740_991],
      ['double', 0.1 + 0.2],
      ['double', -1.5e-300],
      ['double', Number.NaN],
      ['double', Number.NEGATIVE_INFINITY],
      ['boolean', true],
      ['varchar', 'a,"b"\n'],
      ['timestamp', '2026-11-22T10:00:00.123Z'],
    ];
    for (const [type, value] of cases) {
      expect(toTypedCell(type, cellText(type, value)), `${type} ${String(value)}`).toEqual(value);
    }
    expect(cellText('timestamp', '2026-11-22T10:00:00.123Z')).toBe('2026-11-22 10:00:00.123');
    expect(cellText('map', { a: 1, b: 'x' })).toBe('{a=1, b=x}');
    expect(cellText('array', [1, 2])).toBe('[1, 2]');
    expect(cellText('varchar', null)).toBeUndefined();
  });

  it('classifies statements after leading comments and names SQL errors as Trino does', () => {
    expect(statementTypeOf('-- name: x\n-- description: y\nSELECT 1')).toBe('DML');
    expect(statementTypeOf('/* c */ WITH a AS (SELECT 1) SELECT * FROM a')).toBe('DML');
    expect(statementTypeOf('CREATE TABLE t (x int)')).toBe('DDL');
    expect(statementTypeOf('SHOW TABLES')).toBe('UTILITY');
    expect(athenaReason('query failed: Parser Error: syntax error at or near "FORM"')).toBe(
      'SYNTAX_ERROR: Parser Error: syntax error at or near "FORM"',
    );
    expect(athenaReason('Catalog Error: Table with name nope does not exist!')).toMatch(/^TABLE_NOT_FOUND: /);
  });
});
