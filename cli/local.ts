/**
 * Finding the local cloud from a command: a running `shardline up`/`demo` leaves `<data-dir>/cloud.json`
 * with its endpoints; commands build their SDK clients on them (`localClientOptions`). When no cloud runs,
 * commands that only need the stored state start one without pollers.
 */
import { existsSync } from 'node:fs';
import type { ResolvedConfig } from '../common/config.ts';
import { UsageError } from '../common/errors.ts';
import { type CloudInfo, findRunningCloud, localClientOptions } from '../infra/local/connect.ts';
import { type LocalDynamo, openDynamo } from '../queries/local.ts';
import { cliEnvironment } from './env.ts';

export { type CloudInfo, findRunningCloud, localClientOptions };

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
  if (running) return fn(running);
  if (!existsSync(dataDir) && !options.firehose) {
    throw new UsageError(
      `no local cloud state in ${dataDir}: run \`shardline up\` or \`shardline demo\` first (or pass --data-dir)`,
    );
  }
  const { LocalCloud } = await import('../infra/local/index.ts');
  const cloud = await LocalCloud.start({
    config,
    dataDir,
    esm: false,
    firehose: options.firehose ?? false,
    mqtt: false,
    awsApis: false,
  });
  try {
    return await fn({ endpoints: cloud.endpoints, region: cloud.region });
  } finally {
    if (options.firehose) await cloud.drain({ timeoutMs: 60_000 });
    await cloud.stop();
  }
}

/**
 * The DynamoDB a query command reads: `AWS_ENDPOINT_URL_DYNAMODB` when set, else the running local cloud of
 * `dataDir`, else its stored table (see `openDynamo`).
 */
export function openCliDynamo(dataDir: string, config: ResolvedConfig): Promise<LocalDynamo> {
  const env = cliEnvironment();
  return openDynamo(dataDir, {
    region: env.region ?? config.region,
    ...(env.endpoints.dynamodb ? { endpoint: env.endpoints.dynamodb } : {}),
  });
}
