/**
 * Embedded emulators: kinesalite (Kinesis) and dynalite (DynamoDB) on loopback, in this process.
 * Persisted under `<dataDir>/kinesis` and `<dataDir>/dynamodb` when a data dir is given, in memory otherwise.
 *
 * With `thread: true` an emulator runs on a worker thread of this process, with an event loop of its own:
 * the local cloud's pollers, processor and Firehose then no longer queue behind the emulator's work (and
 * use a second core), which is how the pipeline gets near the emulator's own ingest rate.
 */
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ServiceError } from '../../common/errors.ts';
import { listenOn } from './private/http.ts';

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
  /** Run the emulator on a worker thread (its own event loop) instead of this thread's. @default false */
  readonly thread?: boolean;
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
  let bound: number;
  try {
    bound = await listenOn(server, host, port);
  } catch (err) {
    throw new ServiceError(`${name} could not listen on ${host}:${port}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${bound}`,
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
 * const client = kinesisClient({ endpoint: kinesis.endpoint, region: 'us-east-1' });
 * ```
 */
export async function startKinesis(options: EmulatorOptions = {}): Promise<Emulator> {
  const port = options.port ?? 0;
  checkPort(port);
  const shardLimit = options.shardLimit ?? 500;
  const serverOptions = {
    path: storePath(options.dataDir, 'kinesis'),
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit,
  };
  const host = options.host ?? '127.0.0.1';
  if (options.thread) return startInThread('kinesalite', serverOptions, host, port);
  const factory = require('kinesalite') as ServerFactory;
  return listen(factory(serverOptions), 'kinesalite', host, port);
}

/** Starts dynalite with instant table state changes. */
export async function startDynamo(options: EmulatorOptions = {}): Promise<Emulator> {
  const port = options.port ?? 0;
  checkPort(port);
  const serverOptions = {
    path: storePath(options.dataDir, 'dynamodb'),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  };
  const host = options.host ?? '127.0.0.1';
  if (options.thread) return startInThread('dynalite', serverOptions, host, port);
  const factory = require('dynalite') as ServerFactory;
  return listen(factory(serverOptions), 'dynalite', host, port);
}

/**
 * The worker's program (CommonJS, evaluated): start the emulator's server, report its port (or why it could
 * not listen), and on 'close' close it and report back.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const server = require(workerData.modulePath)(workerData.serverOptions);
server.once('error', (err) => parentPort.postMessage({ error: err.message }));
server.listen(workerData.port, workerData.host, () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  if (server.closeAllConnections) server.closeAllConnections();
  server.close((err) => parentPort.postMessage({ closed: true, error: err ? err.message : undefined }));
});
`;

type WorkerReply = { port?: number; error?: string; closed?: boolean };

async function startInThread(
  name: 'kinesalite' | 'dynalite',
  serverOptions: Record<string, unknown>,
  host: string,
  port: number,
): Promise<Emulator> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { modulePath: require.resolve(name), serverOptions, host, port },
  });
  // The worker's next message; an error or an exit before it rejects (so nothing waits on a dead worker).
  const reply = () =>
    new Promise<WorkerReply>((resolve, reject) => {
      const onError = (err: Error) => {
        done();
        reject(err);
      };
      const onExit = (code: number) => {
        done();
        reject(new Error(`the worker exited (code ${code})`));
      };
      const onMessage = (m: WorkerReply) => {
        done();
        resolve(m);
      };
      const done = () => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.off('message', onMessage);
      };
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.on('message', onMessage);
    });
  let first: WorkerReply;
  try {
    first = await reply();
  } catch (err) {
    await worker.terminate();
    throw new ServiceError(`${name} could not start on a worker thread: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (first.port === undefined) {
    await worker.terminate();
    throw new ServiceError(
      `${name} could not listen on ${host}:${port}: ${first.error ?? 'no port reported'}`,
    );
  }
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${first.port}`,
    close() {
      closing ??= (async () => {
        const closed = reply();
        worker.postMessage('close');
        const r = await closed.catch((err: Error) => ({ error: err.message }) as WorkerReply);
        await worker.terminate();
        if (r.error !== undefined) throw new ServiceError(`${name} did not close cleanly: ${r.error}`);
      })();
      return closing;
    },
  };
}
