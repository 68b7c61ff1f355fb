/**
 * `--target aws` end to end on the local cloud: `shardline up` runs in a child process, `shardline env`
 * gives the `AWS_ENDPOINT_URL_<SERVICE>` variables, and every data command then runs twice in its own
 * process, once with `--target local` (dynalite, DuckDB over the archive folder) and once with
 * `--target aws` (stack outputs from CloudFormation DescribeStacks, the table through DynamoDB, the archive
 * through Athena, the on-failure depth through SQS): the same numbers must come out of both.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = resolve('bin/shardline.mjs');
const COUNT = 400;

/** This process's environment without what a local cloud in another test may have set. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (k.startsWith('SHARDLINE_') || k.startsWith('AWS_ENDPOINT_URL')) delete env[k];
  return env;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env, cwd, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

async function json<T>(args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<T> {
  const r = await cli(args, env, cwd);
  if (r.code !== 0) throw new Error(`shardline ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

let dir: string;
let up: ChildProcess;
let localEnv: NodeJS.ProcessEnv;
let awsEnv: NodeJS.ProcessEnv;
const common = ['--config', 'shardline.config.ts', '--data-dir', 'data'];

interface StatusJson {
  target: string;
  shards: {
    shardId: string;
    records: number;
    aggregated: number;
    quarantined: number;
    watermark: string | null;
  }[];
  totals: { records: number; aggregated: number; quarantined: number; late: number };
  onFailure: { records: number | null; note: string };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'aws-target-e2e-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  // Short Firehose buffers and lateness, so the archive settles within seconds.
  writeFileSync(
    join(dir, 'shardline.config.ts'),
    `export default {
  stream: { shardCount: 2 },
  archive: { bufferIntervalSeconds: 1 },
  quarantine: { bufferIntervalSeconds: 1 },
  processing: { allowedLatenessSeconds: 2 },
};\n`,
  );
  localEnv = cleanEnv();
  up = spawn(process.execPath, [BIN, 'up', '--json', ...common], {
    cwd: dir,
    env: localEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let upErr = '';
  up.stderr!.on('data', (d: Buffer) => {
    upErr += d.toString();
  });
  const ready = await new Promise<string>((done, fail) => {
    const lines = createInterface({ input: up.stdout! });
    lines.once('line', done);
    up.once('exit', (code) => fail(new Error(`shardline up exited ${code}: ${upErr}`)));
  });
  expect(JSON.parse(ready)).toMatchObject({ stackName: 'Shardline' });

  const vars = await json<Record<string, string>>(['env', '--json', '--data-dir', 'data'], localEnv, dir);
  awsEnv = { ...cleanEnv(), ...vars };

  const produced = await cli(
    [
      'produce',
      '--count',
      String(COUNT),
      '--rate',
      '1000',
      '--inject-invalid',
      '0.05',
      '--seed',
      '7',
      '--json',
      ...common,
    ],
    localEnv,
    dir,
  );
  expect(produced.code, produced.stderr).toBe(0);
  // Wait until the processor has every record and Firehose has flushed the archive: reconcile (local) then
  // sees every window settled and equal.
  const deadline = Date.now() + 90_000;
  for (;;) {
    const s = await json<StatusJson>(['status', '--json', ...common], localEnv, dir);
    const r = await cli(['reconcile', '--json', ...common], localEnv, dir);
    const report =
      r.code <= 1 && r.stdout ? (JSON.parse(r.stdout) as { ok: boolean; windowsPending: number }) : null;
    if (s.totals.aggregated + s.totals.quarantined === COUNT && report?.ok && report.windowsPending === 0)
      break;
    if (Date.now() > deadline)
      throw new Error(`pipeline did not settle: ${JSON.stringify(s.totals)} ${r.stdout.slice(0, 500)}`);
    await new Promise((r2) => setTimeout(r2, 1_000));
  }
}, 180_000);

afterAll(async () => {
  if (up && up.exitCode === null) {
    const exited = new Promise((r) => up.once('exit', r));
    up.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('--target aws against the local cloud', () => {
  it('aggregates: the same windows and counts as --target local', async () => {
    const args = ['aggregates', '--rollup', 'events_by_type', '--json', ...common];
    const [local, aws] = await Promise.all([
      json<{ window: string; count: number; dimsKey: string; windowStart: string }[]>(args, localEnv, dir),
      json<{ window: string; count: number; dimsKey: string; windowStart: string }[]>(
        [...args, '--target', 'aws'],
        awsEnv,
        dir,
      ),
    ]);
    expect(aws).toEqual(local);
    const status = await json<StatusJson>(['status', '--json', ...common], localEnv, dir);
    // Every aggregated event is in exactly one 1h window.
    const hourly = local.filter((r) => r.window === '1h').reduce((n, r) => n + r.count, 0);
    expect(hourly).toBe(status.totals.aggregated);
    expect(hourly).toBeGreaterThan(0);
  });

  it('status: the same shards, checkpoints and on-failure depth (SQS) as --target local', async () => {
    const local = await json<StatusJson>(['status', '--json', ...common], localEnv, dir);
    const aws = await json<StatusJson>(['status', '--json', '--target', 'aws', ...common], awsEnv, dir);
    expect(aws.target).toBe('aws');
    expect(aws.totals).toEqual(local.totals);
    const strip = (s: StatusJson) =>
      s.shards.map(({ shardId, records, aggregated, quarantined, watermark }) => ({
        shardId,
        records,
        aggregated,
        quarantined,
        watermark,
      }));
    expect(strip(aws)).toEqual(strip(local));
    // Every user record is aggregated or quarantined (Kinesis records may carry several: KPL).
    expect(local.totals.aggregated + local.totals.quarantined).toBe(COUNT);
    expect(aws.onFailure.records).toBe(local.onFailure.records);
    expect(aws.onFailure.note).toContain('SQS');
  });

  it('quarantine: Athena over the quarantine table lists what DuckDB lists', async () => {
    const args = ['quarantine', '--json', ...common];
    const local = await json<{ total: number; byReason: Record<string, number>; records: unknown[] }>(
      args,
      localEnv,
      dir,
    );
    const aws = await json<typeof local>([...args, '--target', 'aws'], awsEnv, dir);
    expect(aws).toEqual(local);
    const status = await json<StatusJson>(['status', '--json', ...common], localEnv, dir);
    expect(local.total).toBe(status.totals.quarantined);
    expect(local.total).toBeGreaterThan(0);
  });

  it('query --engine athena: the rows and bytes scanned of the DuckDB run', async () => {
    const local = await json<{ rows: unknown[]; stats: { bytesScanned: number } }>(
      ['query', 'events_per_minute', '--json', ...common],
      localEnv,
      dir,
    );
    const aws = await json<{
      rows: unknown[];
      engine: string;
      queryExecutionId: string;
      stats: { bytesScanned: number };
    }>(['query', 'events_per_minute', '--engine', 'athena', '--json', ...common], awsEnv, dir);
    expect(aws.engine).toBe('athena');
    expect(aws.queryExecutionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(aws.rows).toEqual(local.rows);
    expect(aws.stats.bytesScanned).toBe(local.stats.bytesScanned);
  });

  it('reconcile: Athena recomputes what DuckDB recomputes, no drift, exit 0', async () => {
    const local = await cli(['reconcile', '--json', ...common], localEnv, dir);
    const aws = await cli(['reconcile', '--json', '--target', 'aws', ...common], awsEnv, dir);
    expect(local.code, local.stderr).toBe(0);
    expect(aws.code, aws.stderr).toBe(0);
    const l = JSON.parse(local.stdout) as Record<string, unknown>;
    const a = JSON.parse(aws.stdout) as Record<string, unknown>;
    expect(a.engine).toBe('athena');
    expect(l.engine).toBe('duckdb');
    for (const k of ['ok', 'windowsChecked', 'drifts', 'pending', 'bytesScanned', 'rollupsChecked'])
      expect(a[k], k).toEqual(l[k]);
    expect(a.windowsChecked).toBeGreaterThan(0);
  });

  it('a failing Athena query prints the SQL error and exits 1', async () => {
    writeFileSync(
      join(dir, 'bad.sql'),
      '-- name: bad\n-- description: a column that does not exist\nSELECT no_such_column FROM events\n',
    );
    const r = await cli(['query', './bad.sql', '--engine', 'athena', ...common], awsEnv, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Athena query [0-9a-f-]{36} failed: COLUMN_NOT_FOUND: .*no_such_column/);
  });

  it('an unknown stack is named with its region; exit 1', async () => {
    const r = await cli(['status', '--target', 'aws', '--stack', 'NoSuchStack', ...common], awsEnv, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read stack "NoSuchStack" in region ${awsEnv.AWS_REGION}`);
    expect(r.stderr).toContain('Stack with id NoSuchStack does not exist');
  });
});
