/**
 * Finding the local cloud from a command: a running `shardline up`/`demo` leaves `<data-dir>/cloud.json`
 * with its endpoints; commands point the SDK at them through the standard `AWS_ENDPOINT_URL_<SERVICE>`
 * variables. When no cloud runs, commands that only need the stored state start one without pollers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ResolvedConfig } from '../common/config.ts';
import { UsageError } from '../common/errors.ts';
import type { CloudInfo as LocalCloudInfo } from '../infra/local/index.ts';

/** What a running cloud writes to `cloud.json` (and what a command needs of it). */
export type CloudInfo = Pick<LocalCloudInfo, 'endpoints' | 'region'> & Partial<LocalCloudInfo>;

function reachable(endpoint: string, timeoutMs = 500): Promise<boolean> {
  const url = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The running local cloud of `dataDir`, if its `cloud.json` exists and its endpoints answer. */
export async function findRunningCloud(dataDir: string): Promise<CloudInfo | undefined> {
  const file = join(dataDir, 'cloud.json');
  if (!existsSync(file)) return undefined;
  let info: CloudInfo;
  try {
    info = JSON.parse(readFileSync(file, 'utf8')) as CloudInfo;
  } catch {
    return undefined;
  }
  if (!info.endpoints?.dynamodb || !info.endpoints.kinesis) return undefined;
  return (await reachable(info.endpoints.dynamodb)) ? info : undefined;
}

/** Points the AWS SDK at `info`'s endpoints (standard variables) with placeholder credentials. */
export function useEndpoints(info: CloudInfo): void {
  process.env.AWS_ENDPOINT_URL_KINESIS = info.endpoints.kinesis;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = info.endpoints.dynamodb;
  if (info.endpoints.firehose) process.env.AWS_ENDPOINT_URL_FIREHOSE = info.endpoints.firehose;
  process.env.AWS_REGION = info.region;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
}

/**
 * Runs `fn` against the local cloud of `dataDir`: the running one if any, else one started just for this
 * command (no event source mapping; the Firehose is drained before it stops, so nothing sent is lost).
 */
export async function withLocalCloud<T>(
  config: ResolvedConfig,
  dataDir: string,
  fn: (info: CloudInfo) => Promise<T>,
  options: { firehose?: boolean } = {},
): Promise<T> {
  const running = await findRunningCloud(dataDir);
  if (running) {
    useEndpoints(running);
    return fn(running);
  }
  if (!existsSync(dataDir) && !options.firehose) {
    throw new UsageError(
      `no local cloud state in ${dataDir}: run \`shardline up\` or \`shardline demo\` first (or pass --data-dir)`,
    );
  }
  const { LocalCloud } = await import('../infra/local/index.ts');
  const cloud = await LocalCloud.start({ config, dataDir, esm: false, firehose: options.firehose ?? false });
  try {
    return await fn({ endpoints: cloud.endpoints, region: cloud.region });
  } finally {
    if (options.firehose) await cloud.drain({ timeoutMs: 60_000 });
    await cloud.stop();
  }
}
