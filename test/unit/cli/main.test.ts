import { describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/main.ts';

/** Runs the CLI in-process with stdout/stderr captured; returns the exit code and what it wrote. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0);
  try {
    const code = await main(['node', 'shardline', ...args]);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('shardline exit codes', () => {
  it('exits 2 for a value outside an option choice, naming the value and the choices', async () => {
    const r = await run('status', '--target', 'foo');
    expect(r.code).toBe(2);
    expect(r.err).toContain("'foo'");
    expect(r.err).toContain('local, aws');
  });

  it('exits 2 for an unknown option', async () => {
    const r = await run('status', '--bogus');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--bogus'");
  });

  it('exits 0 for --help', async () => {
    const r = await run('status', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--target');
  });
});
