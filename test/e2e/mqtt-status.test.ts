/**
 * What issue #16 must show, as a user would see it: `shardline up --json` runs in its own process; MQTT
 * clients this project did not write (the `mqtt` library used raw, and the `mqtt pub` command of the same
 * package) publish 500 valid envelopes to `devices/<id>/events` at the `mqttUrl` it printed, plus 3 JSON
 * payloads that are not valid envelopes; `shardline status --json` then shows exactly 500 aggregated and
 * exactly 3 quarantined.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'mqtt-status-e2e-'));
const dataDir = join(dir, 'data');
let up: ChildProcess | undefined;

/** This process's environment without what a local cloud in another test may have set. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (k.startsWith('SHARDLINE_') || k.startsWith('AWS_ENDPOINT_URL')) delete env[k];
  return env;
}

afterAll(async () => {
  if (up && up.exitCode === null) {
    const exited = new Promise((r) => up!.once('exit', r));
    up.kill('SIGINT');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Totals {
  records: number;
  aggregated: number;
  quarantined: number;
}

async function status(): Promise<Totals> {
  const { stdout } = await run(
    process.execPath,
    ['bin/shardline.mjs', 'status', '--json', '--data-dir', dataDir],
    { cwd: root, env: cleanEnv(), timeout: 60_000 },
  );
  return (JSON.parse(stdout) as { totals: Totals }).totals;
}

describe('shardline up --json with devices over MQTT', () => {
  it('aggregates exactly the 500 valid envelopes and quarantines exactly the 3 invalid ones', async () => {
    // Arrange: the local cloud in its own process; its ready line carries mqttUrl.
    up = spawn(process.execPath, ['bin/shardline.mjs', 'up', '--json', '--data-dir', dataDir], {
      cwd: root,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const firstLine = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: up!.stdout! });
      lines.once('line', resolve);
      up!.once('exit', (code) => reject(new Error(`shardline up exited with ${code}`)));
    });
    const ready = JSON.parse(firstLine) as { mqttUrl: string | null };
    expect(ready.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const url = new URL(ready.mqttUrl!);

    // Act: 500 valid envelopes from 10 devices over MQTT 3.1.1, QoS 1...
    const now = Date.now();
    for (let d = 0; d < 10; d++) {
      const client = await mqtt.connectAsync(ready.mqttUrl!, {
        clientId: `e2e-device-${d}`,
        reconnectPeriod: 0,
      });
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          client.publishAsync(
            `devices/e2e-device-${d}/events`,
            JSON.stringify({
              v: 1,
              eventId: `e2e-${d}-${i}`,
              source: `e2e-device-${d}`,
              type: 'telemetry',
              ts: new Date(now - i * 10).toISOString(),
              metrics: { temperature: 20 + (i % 7) },
              dims: { site: `site-${d % 3}` },
            }),
            { qos: 1 },
          ),
        ),
      );
      await client.endAsync();
    }
    // ...and 3 JSON payloads that are not valid envelopes, with the `mqtt pub` command.
    const invalid = [
      { hello: 'world' },
      { v: 2, eventId: 'x', type: 'telemetry', ts: new Date(now).toISOString() },
      { v: 1, eventId: 'no-ts', type: 'telemetry', metrics: { temperature: 'hot' } },
    ];
    for (const [i, body] of invalid.entries()) {
      await run(
        process.execPath,
        [
          'node_modules/mqtt/build/bin/mqtt.js',
          'pub',
          '-h',
          url.hostname,
          '-p',
          url.port,
          '-q',
          '1',
          '-t',
          `devices/bad-device-${i}/events`,
          '-m',
          JSON.stringify(body),
        ],
        { cwd: root, timeout: 30_000 },
      );
    }

    // Assert: status --json, once the pipeline has seen all 503 records.
    let totals = await status();
    const deadline = Date.now() + 60_000;
    while (totals.records < 503 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      totals = await status();
    }
    expect(totals).toMatchObject({ records: 503, aggregated: 500, quarantined: 3 });
  }, 150_000);
});
