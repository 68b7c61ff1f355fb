/**
 * Finding a running local cloud from another process: `LocalCloud` writes `<dataDir>/cloud.json` while it
 * runs; clients point the AWS SDK at its endpoints through the standard `AWS_ENDPOINT_URL_<SERVICE>`
 * variables. A `cloud.json` left behind by a process that died is ignored (its endpoints do not answer).
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { CloudInfo as LocalCloudInfo } from './cloud.ts';

/** What a running cloud writes to `cloud.json` (and what a client needs of it). */
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
  if (typeof info.endpoints?.dynamodb !== 'string' || typeof info.endpoints.kinesis !== 'string')
    return undefined;
  return (await reachable(info.endpoints.dynamodb)) ? info : undefined;
}

/** Points the AWS SDK at `info`'s endpoints (standard variables), with placeholder credentials if none. */
export function useEndpoints(info: CloudInfo, env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_ENDPOINT_URL_KINESIS = info.endpoints.kinesis;
  env.AWS_ENDPOINT_URL_DYNAMODB = info.endpoints.dynamodb;
  if (info.endpoints.firehose) env.AWS_ENDPOINT_URL_FIREHOSE = info.endpoints.firehose;
  env.AWS_REGION = info.region;
  // Emulators accept any credentials; do not make users invent some.
  env.AWS_ACCESS_KEY_ID ||= 'local';
  env.AWS_SECRET_ACCESS_KEY ||= 'local';
}
