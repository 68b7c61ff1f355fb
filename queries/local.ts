/**
 * Finds the DynamoDB endpoint a command should read: `AWS_ENDPOINT_URL_DYNAMODB` when set (or real AWS when
 * `target` is aws), else a running local cloud's `<dataDir>/cloud.json`, else a dynalite started here over
 * `<dataDir>/dynamodb` (the local cloud's stored table), closed by `close()`.
 */

import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamodbClient } from '../common/aws.ts';
import { UsageError } from '../common/errors.ts';
import { findRunningCloud, useEndpoints } from '../infra/local/connect.ts';

export interface LocalDynamo {
  readonly client: DynamoDBClient;
  /** Where the endpoint came from. */
  readonly origin: 'env' | 'cloud.json' | 'dynalite';
  close(): Promise<void>;
}

type DynaliteFactory = (options: { path?: string; createTableMs?: number }) => Server;

function useLocalCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
}

/** Opens a DynamoDB client for the CLI. The SDK reads the standard endpoint variable, which this sets. */
export async function openDynamo(dataDir: string): Promise<LocalDynamo> {
  if (process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    return { client: dynamodbClient(), origin: 'env', close: async () => undefined };
  }
  const cloud = await findRunningCloud(dataDir);
  if (cloud) {
    useEndpoints(cloud);
    const client = dynamodbClient({ region: cloud.region });
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
  process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${port}`;
  useLocalCredentials();
  const client = dynamodbClient();
  return {
    client,
    origin: 'dynalite',
    close: async () => {
      client.destroy();
      delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
