import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../../cli/main.ts';

function capture() {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  return { out: () => out, err: () => err };
}

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

describe('shardline cost', () => {
  it('prints a per-service table with the three designs', async () => {
    const io = capture();
    const code = await main(['node', 'shardline', 'cost', '--rate', '200', '--record-bytes', '500']);
    expect(code).toBe(0);
    expect(io.out()).toMatch(/service\s+shardline\s+naive\s+flink/);
    expect(io.out()).toContain('DynamoDB (on-demand)');
    expect(io.out()).toContain('TOTAL / month');
    expect(io.out()).toContain('200 records/s of 500 B');
  });

  it('prints JSON with --json', async () => {
    const io = capture();
    expect(await main(['node', 'shardline', 'cost', '--json', '--rate', '50'])).toBe(0);
    const json = JSON.parse(io.out()) as {
      assumptions: { ratePerSecond: number };
      totals: Record<string, number>;
    };
    expect(json.assumptions.ratePerSecond).toBe(50);
    expect(Object.keys(json.totals).sort()).toEqual(['flink', 'naive', 'shardline']);
  });

  it('rejects a bad --rate with a usage error naming the value', async () => {
    const io = capture();
    expect(await main(['node', 'shardline', 'cost', '--rate', 'fast'])).toBe(2);
    expect(io.err()).toContain('--rate must be a number between 0 and 1000000; got "fast"');
  });
});
