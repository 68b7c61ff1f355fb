/**
 * AWS SDK v3 clients, built one way everywhere. Endpoints come from the SDK's standard
 * `AWS_ENDPOINT_URL_<SERVICE>` variables (the local cloud sets them), never from our own settings.
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
}

function requestHandler(timeoutMs: number) {
  return new NodeHttpHandler({
    httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
    requestTimeout: timeoutMs,
    connectionTimeout: 5_000,
  });
}

/**
 * The configuration every client here is built from (region fallback, retries, the HTTP/1.1 keep-alive
 * handler, an explicit endpoint): for a service client this module does not build (Athena, SQS).
 */
export function clientConfig(options: ClientOptions = {}) {
  return {
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    maxAttempts: options.maxAttempts ?? 5,
    requestHandler: requestHandler(options.requestTimeoutMs ?? 30_000),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
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
