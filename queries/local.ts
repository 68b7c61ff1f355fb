/**
 * Finds the DynamoDB endpoint a command should read: the given `endpoint` (the CLI passes
 * `AWS_ENDPOINT_URL_DYNAMODB`) when set, else a running local cloud's `<dataDir>/cloud.json`, else a
 * dynalite started here over `<dataDir>/dynamodb` (the local cloud's stored table), closed by `close()`.
 */

import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamodbClient } from '../common/aws.ts';
import { UsageError } from '../common/errors.ts';
import { findRunningCloud, LOCAL_CREDENTIALS, localClientOptions } from '../infra/local/connect.ts';

export interface LocalDynamo {
  readonly client: DynamoDBClient;
  /** Where the endpoint came from. */
  readonly origin: 'env' | 'cloud.json' | 'dynalite';
  close(): Promise<void>;
}

type DynaliteFactory = (options: { path?: string; createTableMs?: number }) => Server;

export interface OpenDynamoOptions {
  /** An endpoint to use as is (the CLI passes `AWS_ENDPOINT_URL_DYNAMODB`). @default none */
  readonly endpoint?: string;
  /** Region of the clients built here. @default the local cloud's, else the SDK's region chain */
  readonly region?: string;
}

/** Opens a DynamoDB client for the CLI; `close()` destroys it (and stops a dynalite started here). */
export async function openDynamo(dataDir: string, options: OpenDynamoOptions = {}): Promise<LocalDynamo> {
  const region = options.region === undefined ? {} : { region: options.region };
  if (options.endpoint) {
    const client = dynamodbClient({ ...region, endpoint: options.endpoint });
    return { client, origin: 'env', close: async () => client.destroy() };
  }
  const cloud = await findRunningCloud(dataDir);
  if (cloud) {
    const client = dynamodbClient(localClientOptions(cloud, 'dynamodb'));
    return { client, origin: 'cloud.json', close: async () => client.destroy() };
  }
  const path = join(dataDir, 'dynamodb');
  if (!existsSync(path)) {
    throw new UsageError(
      `no DynamoDB to read: AWS_ENDPOINT_URL_DYNAMODB is not set, no local cloud is running in ${dataDir} and ${path} does not exist`,
    );
  }
  const dynalite = createRequire(import.meta.url)('dynalite') as DynaliteFactory;
  const server = dynalite({ path });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const client = dynamodbClient({
    ...region,
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { ...LOCAL_CREDENTIALS },
  });
  return {
    client,
    origin: 'dynalite',
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
