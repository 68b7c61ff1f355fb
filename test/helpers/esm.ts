/**
 * A harness for event source mapping tests: a kinesalite per test file, streams, puts, and handlers that
 * record what Lambda would have received. Call {@link esmHarness} once at the top of a test file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  PutRecordCommand,
} from '@aws-sdk/client-kinesis';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { kinesisClient } from '../../common/aws.ts';
import { resolveConfig, type ShardlineConfigInput } from '../../common/config.ts';
import { type Emulator, startKinesis } from '../../infra/local/emulators.ts';
import {
  EventSourceMapping,
  type EventSourceMappingOptions,
  type KinesisHandler,
} from '../../infra/local/esm.ts';

export const REGION = 'us-east-1';
export const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:test-fn';

export interface Invocation {
  event: KinesisStreamEvent;
  context: Context;
  remainingAtStart: number;
}

/** Polls `check` every 10 ms until it holds, or fails after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A handler that records what it receives and returns `respond(event)` (default: success). */
export function recorder(
  respond: (event: KinesisStreamEvent, n: number) => unknown = () => ({ batchItemFailures: [] }),
) {
  const calls: Invocation[] = [];
  const handler: KinesisHandler = async (event, context) => {
    calls.push({ event, context, remainingAtStart: context.getRemainingTimeInMillis() });
    return respond(event, calls.length);
  };
  const data = () =>
    calls.flatMap((c) => c.event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString()));
  return { calls, handler, data };
}

/** Event source settings for tests: no batching window, no bisect, infinite retries, unless overridden. */
export function eventSource(overrides: NonNullable<ShardlineConfigInput['eventSource']> = {}) {
  return resolveConfig({
    eventSource: {
      batchSize: 100,
      maximumBatchingWindowInSeconds: 0,
      bisectBatchOnFunctionError: false,
      maximumRetryAttempts: -1,
      ...overrides,
    },
  }).eventSource;
}

export interface EsmHarness {
  /** The file's Kinesis client (valid from beforeAll on). */
  readonly kinesis: KinesisClient;
  createStream(shards?: number): Promise<string>;
  put(stream: string, data: string | Uint8Array, key?: string, explicitHashKey?: string): Promise<string>;
  startEsm(
    stream: string,
    handler: KinesisHandler,
    overrides?: Partial<EventSourceMappingOptions>,
  ): Promise<EventSourceMapping>;
}

/** Registers the file's kinesalite and cleanup hooks; mappings started through it stop after each test. */
export function esmHarness(): EsmHarness {
  let kinesalite: Emulator;
  let kinesis: KinesisClient | undefined;
  let streamCounter = 0;
  const running: EventSourceMapping[] = [];
  const client = () => {
    if (!kinesis) throw new Error('esmHarness: the Kinesis client exists from beforeAll on');
    return kinesis;
  };

  beforeAll(async () => {
    kinesalite = await startKinesis();
    process.env.AWS_ENDPOINT_URL_KINESIS = kinesalite.endpoint;
    process.env.AWS_ACCESS_KEY_ID ||= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ||= 'test';
    kinesis = kinesisClient({ region: REGION });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((e) => e.stop()));
  });
  afterAll(async () => {
    kinesis?.destroy();
    await kinesalite.close();
  });

  return {
    get kinesis() {
      return client();
    },
    async createStream(shards = 1) {
      const name = `esm-${process.pid}-${++streamCounter}`;
      await client().send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      await waitUntil(async () => {
        const out = await client().send(new DescribeStreamSummaryCommand({ StreamName: name }));
        return out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
      });
      return name;
    },
    async put(stream, data, key = 'k', explicitHashKey) {
      const out = await client().send(
        new PutRecordCommand({
          StreamName: stream,
          PartitionKey: key,
          Data: typeof data === 'string' ? Buffer.from(data) : data,
          ...(explicitHashKey === undefined ? {} : { ExplicitHashKey: explicitHashKey }),
        }),
      );
      return out.SequenceNumber ?? '';
    },
    async startEsm(stream, handler, overrides = {}) {
      const esm = await EventSourceMapping.start({
        eventSource: eventSource(),
        streamName: stream,
        streamArn: `arn:aws:kinesis:${REGION}:000000000000:stream/${stream}`,
        kinesis: client(),
        handler,
        stateDir: mkdtempSync(join(tmpdir(), 'esm-state-')),
        region: REGION,
        functionArn: FUNCTION_ARN,
        pollIntervalMs: 20,
        shardDiscoveryIntervalMs: 50,
        retryBackoffMs: 1,
        ...overrides,
      });
      running.push(esm);
      return esm;
    },
  };
}
