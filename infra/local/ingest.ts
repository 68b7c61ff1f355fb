/**
 * The local ingest endpoint: an HTTP server on 127.0.0.1 (its own port) in front of the local Kinesis
 * stream, answering like the API Gateway endpoint of the AWS stack: `POST /ingest`, `GET /sdk.js` (the web
 * SDK, built with esbuild on first request and cached), `GET /healthz`, CORS. The routes and answers are
 * documented in `producers/ingest/handler.ts`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { describeValue } from '../../common/errors.ts';
import {
  createIngestHandler,
  type IngestHandler,
  IngestOptionsError,
  type IngestPolicy,
  type IngestStats,
  type PutOptions,
} from '../../producers/ingest/index.ts';
import { listenOn } from './private/http.ts';

export interface LocalIngestOptions {
  /** Stream the records go to. */
  readonly streamName: string;
  /** Kinesis client pointed at the local stream (`common/aws.ts`). */
  readonly kinesis: KinesisClient;
  /** Port on 127.0.0.1, 0–65535; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Origins whose pages may read the answers (CORS); `['*']` for any. @default ['*'] */
  readonly allowedOrigins?: readonly string[];
  /**
   * Record count, event types and source namespace accepted; the local cloud passes
   * `webIngestPolicy(config.ingest)`, the rules API Gateway applies on AWS. @default {} (anything valid)
   */
  readonly policy?: IngestPolicy;
  /** PutRecords retry settings. @default the handler's */
  readonly put?: PutOptions;
  readonly log?: (line: string) => void;
}

/** A running local ingest server. */
export class LocalIngest {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** `<endpoint>/ingest`: where clients POST. */
  readonly url: string;
  readonly #server: Server;
  readonly #handler: IngestHandler;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, handler: IngestHandler) {
    this.#server = server;
    this.#handler = handler;
    const { port } = server.address() as AddressInfo;
    this.endpoint = `http://127.0.0.1:${port}`;
    this.url = `${this.endpoint}/ingest`;
  }

  static async start(options: LocalIngestOptions): Promise<LocalIngest> {
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new IngestOptionsError(
        `port must be an integer between 0 and 65535; received ${describeValue(port)}`,
      );
    }
    const handler = createIngestHandler({
      streamName: options.streamName,
      client: options.kinesis,
      sdk: async () => (await import('../../producers/web/build.ts')).buildWebSdk(),
      ...(options.allowedOrigins === undefined ? {} : { allowedOrigins: options.allowedOrigins }),
      ...(options.policy === undefined ? {} : { policy: options.policy }),
      ...(options.put === undefined ? {} : { put: options.put }),
      ...(options.log === undefined ? {} : { log: options.log }),
    });
    const server = createServer((req, res) => handler.handle(req, res));
    server.keepAliveTimeout = 5_000;
    await listenOn(server, '127.0.0.1', port);
    const ingest = new LocalIngest(server, handler);
    options.log?.(`[ingest] ${ingest.url} -> stream ${options.streamName}`);
    return ingest;
  }

  stats(): IngestStats {
    return this.#handler.stats();
  }

  /** Stops accepting connections and closes idle ones; in-flight requests finish. Idempotent. */
  stop(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
    return this.#closing;
  }
}
