import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimDataDir, prepareDataDir } from '../../../cli/data-dir.ts';

const made: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shardline-datadir-'));
  made.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the local data dir', () => {
  it('accepts a data dir where only `cost --measure` has run, and keeps the measured run on a fresh demo', () => {
    // GIVEN `cost --measure` saved its run into a data dir that did not exist yet
    const dir = join(scratch(), '.shardline');
    claimDataDir(dir);
    mkdirSync(join(dir, 'cost'));
    writeFileSync(join(dir, 'cost', 'measured.json'), '{}');
    writeFileSync(join(dir, 'dynamo.db'), 'old pipeline state');
    // WHEN a demo prepares it (wiping)
    prepareDataDir(dir, false);
    // THEN the measured run stays and the old pipeline is gone
    expect(existsSync(join(dir, 'cost', 'measured.json'))).toBe(true);
    expect(existsSync(join(dir, 'dynamo.db'))).toBe(false);
  });

  it('never claims or wipes a folder that holds something else', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'thesis.tex'), 'precious');
    claimDataDir(dir);
    expect(() => prepareDataDir(dir, false)).toThrow(/not a Shardline data dir/);
    expect(readdirSync(dir)).toEqual(['thesis.tex']);
  });
});
