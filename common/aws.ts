/**
 * AWS SDK v3 clients, built one way everywhere. Endpoints are either given (the local cloud hands out its
 * emulators' endpoints as values) or found by the SDK itself in its standard `AWS_ENDPOINT_URL_<SERVICE>`
 * variables, never in our own settings. Without a region the SDK's own region chain (`AWS_REGION`, the
 * shared config file's profile) decides, and `us-east-1` when it finds none.
 *
 * Kinesis's client defaults to an HTTP/2 handler, which a plain-HTTP emulator cannot speak; we use the
 * HTTP/1.1 handler for every client (we do not use enhanced fan-out, the one API that needs HTTP/2).
 */

import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface ClientOptions {
  /** @default the SDK's region chain (`AWS_REGION`, then the shared config file), else `us-east-1` */
  region?: string;
  /** Max attempts of the SDK's standard retry strategy. @default 5 */
  maxAttempts?: number;
  /** Socket timeout per request in ms. @default 30_000 */
  requestTimeoutMs?: number;
  /**
   * Explicit endpoint, for tests that run several emulators side by side. Normally leave it unset: the SDK
   * reads `AWS_ENDPOINT_URL_<SERVICE>` (or `AWS_ENDPOINT_URL`) itself.
   */
  endpoint?: string;
  /** Static credentials (emulators accept any). @default the SDK's credential chain */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

function requestHandler(timeoutMs: number) {
  return new NodeHttpHandler({
    httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
    requestTimeout: timeoutMs,
    connectionTimeout: 5_000,
  });
}

/** Region when neither the options nor the SDK's region chain name one. */
export const FALLBACK_REGION = 'us-east-1';

/**
 * The SDK's own region chain, asked once through a client that never sends, else {@link FALLBACK_REGION}.
 */
function sdkRegionOrFallback(): () => Promise<string> {
  let region: Promise<string> | undefined;
  return () => {
    region ??= (async () => {
      const probe = new DynamoDBClient({});
      try {
        return await probe.config.region();
      } catch {
        return FALLBACK_REGION;
      } finally {
        probe.destroy();
      }
    })();
    return region;
  };
}

/**
 * The configuration every client here is built from (region fallback, retries, the HTTP/1.1 keep-alive
 * handler, an explicit endpoint): for a service client this module does not build (Athena, SQS).
 */
export function clientConfig(options: ClientOptions = {}) {
  return {
    region: options.region ?? sdkRegionOrFallback(),
    maxAttempts: options.maxAttempts ?? 5,
    requestHandler: requestHandler(options.requestTimeoutMs ?? 30_000),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
}

export function kinesisClient(options: ClientOptions = {}): KinesisClient {
  return new KinesisClient(clientConfig(options));
}

export function dynamodbClient(options: ClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(clientConfig(options));
}

export function firehoseClient(options: ClientOptions = {}): FirehoseClient {
  return new FirehoseClient(clientConfig(options));
}
