/**
 * Bring your own emulator: with `AWS_ENDPOINT_URL_KINESIS` set, `shardline demo` uses that Kinesis (here
 * kinesis-mock, npm `kinesis-local`, over plain HTTP) instead of starting kinesalite, creates the stream
 * there, and the pipeline still reconciles exactly. Small on purpose: kinesis-mock does a few hundred
 * records per second.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DescribeStreamSummaryCommand, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../cli/commands/demo.ts';
import { loadConfig } from '../../cli/shared.ts';
import { kinesisClient } from '../../common/aws.ts';

const run = promisify(execFile);
const MOCK_DIR = resolve('node_modules/kinesis-local');

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (k.startsWith('SHARDLINE_') || k.startsWith('AWS_ENDPOINT_URL')) delete env[k];
  return env;
}

let mock: ChildProcess;
let endpoint: string;
let dir: string;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ||= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ||= 'local';
  dir = mkdtempSync(join(tmpdir(), 'kinesis-mock-e2e-'));
  const [plain, tls] = [await freePort(), await freePort()];
  endpoint = `http://127.0.0.1:${plain}`;
  mock = spawn(process.execPath, [join(MOCK_DIR, 'main.js')], {
    cwd: dir,
    env: {
      ...cleanEnv(),
      KINESIS_MOCK_CERT_PATH: join(MOCK_DIR, 'server.json'),
      KINESIS_MOCK_PLAIN_PORT: String(plain),
      KINESIS_MOCK_TLS_PORT: String(tls),
      LOG_LEVEL: 'WARN',
    },
    stdio: 'ignore',
  });
  const client = kinesisClient({ endpoint, region: 'us-east-1', maxAttempts: 1 });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await client.send(new ListStreamsCommand({}));
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    client.destroy();
  }
}, 90_000);

afterAll(async () => {
  if (mock && mock.exitCode === null) {
    const exited = new Promise((r) => mock.once('exit', r));
    mock.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('demo against kinesis-mock (AWS_ENDPOINT_URL_KINESIS)', () => {
  it('creates the stream in kinesis-mock, runs the pipeline through it and reconciles exactly', async () => {
    const summaryFile = join(dir, 'summary.json');
    const { stderr } = await run(
      process.execPath,
      [
        resolve('bin/shardline.mjs'),
        'demo',
        '--duration',
        '3',
        '--rate',
        '100',
        '--devices',
        '20',
        '--no-dashboard',
        '--data-dir',
        join(dir, 'data'),
        '--summary-json',
        summaryFile,
      ],
      { timeout: 150_000, env: { ...cleanEnv(), AWS_ENDPOINT_URL_KINESIS: endpoint } },
    );
    expect(stderr).toContain(`Using your kinesis at ${endpoint}`);
    const s = JSON.parse(readFileSync(summaryFile, 'utf8')) as DemoSummary;
    expect(s.ok).toBe(true);
    expect(s.reconcile.ok).toBe(true);
    expect(s.reconcile.drifts).toEqual([]);
    expect(s.produced).toBeGreaterThan(0);
    expect(s.produced).toBe(s.aggregated + s.quarantined);

    // The stream lives in kinesis-mock (the demo started no kinesalite), with the config's shards.
    // The demo ran with the repository's shardline.config.ts.
    const config = await loadConfig(resolve('shardline.config.ts'));
    const client = kinesisClient({ endpoint, region: config.region, maxAttempts: 1 });
    try {
      const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: config.stream.name }));
      expect(summary.StreamDescriptionSummary?.OpenShardCount).toBe(config.stream.shardCount);
    } finally {
      client.destroy();
    }
  }, 160_000);
});
