/**
 * Finding a running local cloud from another process: `LocalCloud` writes `<dataDir>/cloud.json` while it
 * runs; clients are built on its endpoints with {@link localClientOptions}. A `cloud.json` left behind by a
 * process that died is ignored (its endpoints do not answer).
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { ClientOptions } from '../../common/aws.ts';
import type { CloudInfo as LocalCloudInfo } from './cloud.ts';

/** What a running cloud writes to `cloud.json` (and what a client needs of it). */
export type CloudInfo = Pick<LocalCloudInfo, 'endpoints' | 'region'> & Partial<LocalCloudInfo>;

/** The services a local cloud serves over the AWS wire protocol. */
export type LocalService = 'kinesis' | 'dynamodb' | 'firehose';

/** Credentials for the emulators, which accept any: users need not invent some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/**
 * Options for a `common/aws.ts` client of `service` on the local cloud `info`: its region, its endpoint
 * (none for a Firehose the cloud does not run) and placeholder credentials.
 */
export function localClientOptions(
  info: { readonly region: string; readonly endpoints: Partial<Record<LocalService, string | null>> },
  service: LocalService,
): ClientOptions {
  const endpoint = info.endpoints[service];
  return {
    region: info.region,
    credentials: { ...LOCAL_CREDENTIALS },
    ...(endpoint ? { endpoint } : {}),
  };
}

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
