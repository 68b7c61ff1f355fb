import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../../infra/aws/lib/shardline-stack.ts';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('infra/aws/lib layout', () => {
  it('splits the stack by responsibility: no file over 400 lines', () => {
    const long = files(join(REPO_ROOT, 'infra', 'aws', 'lib'))
      .map((f) => [relative(REPO_ROOT, f), readFileSync(f, 'utf8').split('\n').length] as const)
      .filter(([, n]) => n > 400);
    expect(long).toEqual([]);
  });
});
