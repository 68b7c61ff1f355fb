/**
 * Test helper: a real kinesalite on 127.0.0.1:0 (the project's `startKinesis`) and real SDK clients from
 * common/aws.ts pointed at it.
 */

import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  ProvisionedThroughputExceededException,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../common/aws.ts';
import { startKinesis } from '../../infra/local/emulators.ts';

export interface LocalKinesis {
  readonly endpoint: string;
  client(maxAttempts?: number): KinesisClient;
  createStream(name: string, shards: number): Promise<void>;
  /** Every record of the stream, all shards, in shard then sequence order. */
  readAll(
    name: string,
  ): Promise<{ shardId: string; sequenceNumber: string; partitionKey: string; data: Uint8Array }[]>;
  close(): Promise<void>;
}

export async function startKinesalite(): Promise<LocalKinesis> {
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  const emulator = await startKinesis({ shardLimit: 100 });
  const endpoint = emulator.endpoint;
  const clients: KinesisClient[] = [];
  // The CLI commands under test (produce) find Kinesis through the standard variable; vitest runs each test
  // file in its own process, so setting it here is local to this file. Clients made here name it directly.
  const before = process.env.AWS_ENDPOINT_URL_KINESIS;
  process.env.AWS_ENDPOINT_URL_KINESIS = endpoint;
  const client = (maxAttempts = 1): KinesisClient => {
    const c = kinesisClient({ region: 'us-east-1', maxAttempts, endpoint });
    clients.push(c);
    return c;
  };
  const admin = client(3);
  return {
    endpoint,
    client,
    async createStream(name, shards) {
      await admin.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      for (;;) {
        const d = await admin.send(new DescribeStreamCommand({ StreamName: name }));
        if (d.StreamDescription?.StreamStatus === 'ACTIVE') return;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async readAll(name) {
      const shards = (await admin.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
      const out: { shardId: string; sequenceNumber: string; partitionKey: string; data: Uint8Array }[] = [];
      for (const shard of shards) {
        let it = (
          await admin.send(
            new GetShardIteratorCommand({
              StreamName: name,
              ShardId: shard.ShardId,
              ShardIteratorType: 'TRIM_HORIZON',
            }),
          )
        ).ShardIterator;
        while (it) {
          const r = await admin.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
          for (const rec of r.Records ?? []) {
            out.push({
              shardId: shard.ShardId as string,
              sequenceNumber: rec.SequenceNumber as string,
              partitionKey: rec.PartitionKey as string,
              data: rec.Data as Uint8Array,
            });
          }
          if ((r.Records ?? []).length === 0) break;
          it = r.NextShardIterator;
        }
      }
      return out;
    },
    async close() {
      for (const c of clients) c.destroy();
      if (before === undefined) delete process.env.AWS_ENDPOINT_URL_KINESIS;
      else process.env.AWS_ENDPOINT_URL_KINESIS = before;
      await emulator.close();
    },
  };
}

/** Decides, per PutRecords entry, whether to fail it and with which code. */
export type EntryFault = (entry: { index: number; call: number }) => string | undefined;

/**
 * Injects failures into a real client's PutRecords: entries chosen by `fault` are removed from the real
 * request (so they never reach the stream) and reported back failed in place; `throttleCall` throws a
 * whole-request ProvisionedThroughputExceededException before anything is sent.
 */
export function injectFaults(
  client: KinesisClient,
  fault: EntryFault,
  throttleCall: (call: number) => boolean = () => false,
): { calls: PutRecordsCommandInput[] } {
  const calls: PutRecordsCommandInput[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutRecordsCommand') return next(args);
      const input = args.input as PutRecordsCommandInput;
      const call = calls.length;
      calls.push(input);
      if (throttleCall(call)) {
        throw new ProvisionedThroughputExceededException({
          message: 'Rate exceeded (injected)',
          $metadata: {},
        });
      }
      const records = input.Records ?? [];
      const codes = records.map((_, index) => fault({ index, call }));
      const keep = records.filter((_, i) => codes[i] === undefined);
      let realResults: PutRecordsResultEntry[] = [];
      let out: Awaited<ReturnType<typeof next>> | undefined;
      if (keep.length > 0) {
        out = await next({ ...args, input: { ...input, Records: keep } });
        realResults = (out.output as PutRecordsCommandOutput).Records ?? [];
      }
      let k = 0;
      const merged = codes.map((code) =>
        code === undefined
          ? (realResults[k++] as PutRecordsResultEntry)
          : { ErrorCode: code, ErrorMessage: 'injected' },
      );
      const failed = codes.filter((c) => c !== undefined).length;
      const output = {
        ...((out?.output ?? { $metadata: {} }) as PutRecordsCommandOutput),
        Records: merged,
        FailedRecordCount: failed,
      };
      return { ...(out ?? { response: {} }), output } as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name: 'shardlineFaultInjection' },
  );
  return { calls };
}
