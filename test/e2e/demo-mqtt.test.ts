/**
 * `shardline demo --via mqtt`, as a user runs it: the synthetic IoT fleet publishes to the local MQTT broker
 * (the device rule puts it on the stream), the website stays on Kinesis PutRecords, and the demo's accounting
 * stays exact: every record produced is aggregated, quarantined by the processor, or quarantined by the
 * device rule (shard `mqtt`), and every rollup reconciles with the archive.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../cli/commands/demo.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'demo-mqtt-e2e-'));
const dataDir = join(dir, 'data');

/** This process's environment without what a local cloud in another test may have set. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (k.startsWith('SHARDLINE_') || k.startsWith('AWS_ENDPOINT_URL')) delete env[k];
  return env;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('shardline demo --via mqtt', () => {
  it('drives the fleet through the broker and still accounts for every record', async () => {
    // Arrange: 6 s at 200/s, with enough malformed records that some are not JSON (the rule rejects those).
    const rate = 200;
    const duration = 6;
    const summaryFile = join(dir, 'summary.json');

    // Act: execFile rejects on a non-zero exit, so reaching the assertions means the demo exited 0.
    const { stdout } = await run(
      process.execPath,
      [
        'bin/shardline.mjs',
        'demo',
        '--via',
        'mqtt',
        '--duration',
        String(duration),
        '--rate',
        String(rate),
        '--inject-invalid',
        '0.05',
        '--seed',
        '3',
        '--no-dashboard',
        '--data-dir',
        dataDir,
        '--summary-json',
        summaryFile,
      ],
      { cwd: root, env: cleanEnv(), timeout: 150_000 },
    );
    const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as DemoSummary;

    // Assert: the path is named, in the summary and in what it prints.
    expect(s.via).toBe('mqtt');
    expect(stdout).toContain('via mqtt');
    expect(s.ok).toBe(true);
    // The broker carried the fleet's share of the 4:1 mix: each device's message matched the rule once.
    const m = s.mqtt!;
    expect(m.published).toBe(Math.round(((rate * 4) / 5) * duration));
    expect(m.webPutRecords).toBe(Math.round((rate / 5) * duration));
    expect(m.matched).toBe(m.published);
    expect(m.devices).toBeGreaterThan(1);
    expect(m.forwarded + m.quarantinedByRule).toBe(m.matched);
    expect(m.quarantinedByRule).toBeGreaterThan(0);
    // Conservation, recomputed from the parts.
    expect(s.produced).toBe(m.published + m.webPutRecords);
    expect(s.aggregated + s.quarantined + m.quarantinedByRule).toBe(s.produced);
    expect(s.conservation.ok).toBe(true);
    expect(s.reconcile).toMatchObject({ ok: true, drifts: [] });
    expect(s.reconcile.windowsChecked).toBeGreaterThan(0);

    // The rule's rejections are in the quarantine archive as shard `mqtt`, as `shardline quarantine` lists them.
    const q = await run(
      process.execPath,
      ['bin/shardline.mjs', 'quarantine', '--json', '--limit', '100000', '--data-dir', dataDir],
      { cwd: root, env: cleanEnv(), timeout: 60_000 },
    );
    const list = JSON.parse(q.stdout) as { total: number; records: { shardId: string }[] };
    expect(list.records.filter((r) => r.shardId === 'mqtt')).toHaveLength(m.quarantinedByRule);
    expect(list.total).toBe(s.quarantined + m.quarantinedByRule);
  }, 180_000);

  it('refuses an unknown path with exit code 2', async () => {
    const err = await run(
      process.execPath,
      ['bin/shardline.mjs', 'demo', '--via', 'carrier-pigeon', '--data-dir', join(dir, 'bad')],
      { cwd: root, env: cleanEnv(), timeout: 60_000 },
    ).catch((e: { code?: number; stderr?: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('--via must be one of kinesis, mqtt');
  }, 60_000);
});
