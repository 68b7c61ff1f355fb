import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/main.ts';
import { writeArchive } from '../../helpers/archive.ts';

const T = Date.UTC(2026, 2, 1, 10, 0, 0);
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cli-query-'));
  await writeArchive({
    dataDir,
    events: [0, 1, 2].map((i) => ({
      event: {
        v: 1,
        eventId: `e${i}`,
        source: `d${i}`,
        type: 'telemetry',
        ts: T + i * 1000,
        metrics: { temperature: 20 + i },
        dims: {},
      },
    })),
  });
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'shardline', ...argv]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

describe('shardline query', () => {
  it('lists the catalog as JSON', async () => {
    const { code, out } = await capture(['query', '--list', '--json']);
    expect(code).toBe(0);
    expect((JSON.parse(out) as { name: string }[]).map((q) => q.name)).toContain('events_per_minute');
  });

  it('runs a query with params as JSON and CSV', async () => {
    const args = [
      'query',
      'metric_summary_by_source',
      '--param',
      `from=${new Date(T).toISOString()}`,
      '--param',
      `to=${new Date(T + 60_000).toISOString()}`,
      '--data-dir',
      dataDir,
    ];
    const json = await capture([...args, '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.out) as {
      rows: { source: string; n: number }[];
      stats: { filesScanned: number };
    };
    expect(doc.rows.map((r) => [r.source, r.n])).toEqual([
      ['d0', 1],
      ['d1', 1],
      ['d2', 1],
    ]);
    expect(doc.stats.filesScanned).toBe(1);
    const csv = await capture([...args, '--format', 'csv']);
    expect(csv.out.split('\n')[0]).toBe('source,n,min,avg,max');
    expect(csv.out).toContain('d2,1,22,22,22');
  });

  it('exits 2 with the rule on a bad param', async () => {
    const { code, err } = await capture([
      'query',
      'events_per_minute',
      '--param',
      'from=yesterday',
      '--data-dir',
      dataDir,
    ]);
    expect(code).toBe(2);
    expect(err).toMatch(/param from must be ISO-8601.*received "yesterday"/);
  });
});
