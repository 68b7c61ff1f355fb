/**
 * Embedded emulators: kinesalite (Kinesis) and dynalite (DynamoDB) on loopback, in this process.
 * Persisted under `<dataDir>/kinesis` and `<dataDir>/dynamodb` when a data dir is given, in memory otherwise.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ServiceError } from '../../common/errors.ts';

const require = createRequire(import.meta.url);

export interface EmulatorOptions {
  /** Folder to persist under (`<dataDir>/kinesis` or `<dataDir>/dynamodb`). @default in memory */
  readonly dataDir?: string;
  /** Interface to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port, 0–65535; 0 picks a free port. @default 0 */
  readonly port?: number;
  /** Kinesis only: maximum open shards per stream, 1–10,000. @default 500 (the config's shard count limit) */
  readonly shardLimit?: number;
}

/** A running emulator. */
export interface Emulator {
  /** `http://<host>:<port>`, for `AWS_ENDPOINT_URL_<SERVICE>`. */
  readonly endpoint: string;
  /** Closes the server and its store. Idempotent. */
  close(): Promise<void>;
}

type ServerFactory = (options: Record<string, unknown>) => Server;

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ServiceError(`emulator port must be an integer between 0 and 65535; received ${port}`);
  }
}

async function listen(server: Server, name: string, host: string, port: number): Promise<Emulator> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new ServiceError(`${name} could not listen on ${host}:${port}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.closeAllConnections?.();
        server.close((err?: Error) => (err ? reject(err) : resolve()));
      });
      return closing;
    },
  };
}

function storePath(dataDir: string | undefined, sub: string): string | undefined {
  if (dataDir === undefined) return undefined;
  const path = join(dataDir, sub);
  mkdirSync(path, { recursive: true });
  return path;
}

/**
 * Starts kinesalite with instant stream state changes (CREATING/UPDATING/DELETING take 0 ms).
 *
 * @example
 * ```ts
 * const kinesis = await startKinesis({ dataDir: '.shardline' });
 * process.env.AWS_ENDPOINT_URL_KINESIS = kinesis.endpoint;
 * ```
 */
export async function startKinesis(options: EmulatorOptions = {}): Promise<Emulator> {
  const port = options.port ?? 0;
  checkPort(port);
  const shardLimit = options.shardLimit ?? 500;
  const factory = require('kinesalite') as ServerFactory;
  const server = factory({
    path: storePath(options.dataDir, 'kinesis'),
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit,
  });
  return listen(server, 'kinesalite', options.host ?? '127.0.0.1', port);
}

/** Starts dynalite with instant table state changes. */
export async function startDynamo(options: EmulatorOptions = {}): Promise<Emulator> {
  const port = options.port ?? 0;
  checkPort(port);
  const factory = require('dynalite') as ServerFactory;
  const server = factory({
    path: storePath(options.dataDir, 'dynamodb'),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  return listen(server, 'dynalite', options.host ?? '127.0.0.1', port);
}
