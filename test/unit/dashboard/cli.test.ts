import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/main.ts';

async function capture(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return { code: await main(['node', 'shardline', ...argv]), err };
  } finally {
    e.mockRestore();
    o.mockRestore();
  }
}

describe('shardline dashboard', () => {
  it('fails clearly when no local cloud runs in the data dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dash-cli-'));
    const { code, err } = await capture(['dashboard', '--data-dir', dir]);
    rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(2);
    expect(err).toContain(
      `no local cloud runs in ${dir}: start one with \`shardline up\` or \`shardline demo\``,
    );
  });

  it('rejects a bad port with the value received', async () => {
    const { code, err } = await capture(['dashboard', '--port', '70000']);
    expect(code).not.toBe(0);
    expect(err).toContain('--port must be an integer between 0 and 65535; got "70000"');
  });
});
