/** `shardline produce --via mqtt`: the fleet over MQTT from the CLI, and its argument checks. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../../cli/commands/produce.ts';
import { resolveConfig } from '../../../common/config.ts';
import { UsageError } from '../../../common/errors.ts';
import { startTestCloud, type TestCloud } from '../../helpers/cloud.ts';

// The default config: the CLI loads shardline.config.ts, whose stream the broker's rule must write to.
const config = resolveConfig({ stream: { shardCount: 1 } });
let t: TestCloud;
const empty = mkdtempSync(join(tmpdir(), 'produce-mqtt-'));

beforeAll(async () => {
  t = await startTestCloud(config, 'produce-mqtt', { esm: false, ingest: false, firehose: false });
});
afterAll(async () => {
  await t?.stop();
  rmSync(empty, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const program = new Command('shardline').exitOverride();
  register(program);
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    process.exitCode = undefined;
    await program.parseAsync(['node', 'shardline', 'produce', ...args]);
  } finally {
    spy.mockRestore();
  }
  return { stdout: out.join(''), exitCode: process.exitCode };
}

describe('shardline produce --via mqtt', () => {
  it('drives the fleet through the broker and prints the report', async () => {
    const { stdout, exitCode } = await cli([
      '--via',
      'mqtt',
      '--mqtt-url',
      t.cloud.mqtt!.url,
      '--count',
      '40',
      '--rate',
      '2000',
      '--devices',
      '4',
      '--json',
    ]);
    expect(exitCode ?? 0).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ via: 'mqtt', emitted: 40, sent: 40, failed: 0, devices: 4 });
    await t.cloud.mqtt!.drain();
    expect(t.cloud.mqtt!.rule.stats().forwarded).toBe(40);
  });

  it.each([
    [['--via', 'carrier'], '--via must be one of kinesis, mqtt'],
    [['--via', 'mqtt', '--scenario', 'web'], '--via mqtt sends the iot scenario'],
    [['--via', 'mqtt', '--data-dir', empty], 'no MQTT broker'],
  ])('refuses %j', async (args, message) => {
    const run = cli(args);
    await expect(run).rejects.toBeInstanceOf(UsageError);
    await expect(run).rejects.toThrow(message);
  });
});
