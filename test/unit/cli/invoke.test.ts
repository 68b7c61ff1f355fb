/**
 * `shardline invoke` on a real sample Lambda Kinesis event whose data is not our envelope: the record is
 * quarantined (through the local Firehose, into the quarantine archive) with a clear reason, and the
 * handler reports no failures.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/main.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'shardline-invoke-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('shardline invoke', () => {
  it('quarantines a record that is not an envelope and returns no failures', async () => {
    const fixture = new URL('../../fixtures/kinesis-time-window-event.json', import.meta.url).pathname;
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await main(['node', 'shardline', 'invoke', fixture, '--data-dir', dataDir, '--report']);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    const printed = JSON.parse(out.join('')) as { response: unknown; report: { quarantined: number } };
    // The sample is a tumbling-window event: the response carries the window's state on (an empty carry:
    // the sample's own state is not one this processor writes).
    expect(printed.response).toEqual({
      batchItemFailures: [],
      state: expect.objectContaining({ v: 1, items: {} }),
    });
    expect(printed.report.quarantined).toBe(1);
    const quarantined = files(join(dataDir, 's3', 'shardline-archive', 'quarantine'))
      .flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as { reason: string; detail: string; sequenceNumber: string; data: string });
    expect(quarantined).toHaveLength(1);
    expect(quarantined[0]).toMatchObject({
      reason: 'invalid_json',
      sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      data: 'SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==',
    });
    expect(quarantined[0]!.detail).toContain('Hello, this is a test.');
  });

  it('rejects a file that is not a Kinesis event with a usage error', async () => {
    const bad = join(dataDir, 'bad.json');
    await import('node:fs').then((fs) => fs.writeFileSync(bad, '{"nope":1}'));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'shardline', 'invoke', bad, '--data-dir', dataDir])).toBe(2);
      expect(String(err.mock.calls[0]?.[0])).toContain('expected an object with a "Records" array');
    } finally {
      err.mockRestore();
    }
  });
});
