import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeDeliveryStreamCommand,
  type FirehoseClient,
  FirehoseServiceException,
  InvalidArgumentException,
  ListDeliveryStreamsCommand,
  PutRecordBatchCommand,
  PutRecordCommand,
  ResourceNotFoundException,
  ServiceUnavailableException,
} from '@aws-sdk/client-firehose';
import { CreateStreamCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { firehoseClient, kinesisClient } from '../../../../common/aws.ts';
import { resolveConfig } from '../../../../common/config.ts';
import { type Emulator, startKinesis } from '../../../../infra/local/emulators.ts';
import { LocalFirehose } from '../../../../infra/local/firehose.ts';

let emulator: Emulator;
let kinesis: KinesisClient;
let firehose: LocalFirehose;
let client: FirehoseClient;
let dataDir: string;
const config = resolveConfig({
  stream: { name: 'api-stream', shardCount: 1 },
  quarantine: { bufferSizeMiB: 5, bufferIntervalSeconds: 900 },
});
const Q = config.quarantine.deliveryStreamName;
const enc = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ||= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ||= 'local';
  emulator = await startKinesis();
  kinesis = kinesisClient({ endpoint: emulator.endpoint, region: 'us-east-1' });
  await kinesis.send(new CreateStreamCommand({ StreamName: 'api-stream', ShardCount: 1 }));
  dataDir = await mkdtemp(join(tmpdir(), 'firehose-api-'));
  firehose = await LocalFirehose.start({
    config,
    dataDir,
    kinesisClient: kinesis,
    region: 'eu-west-1',
    pollIntervalMs: 200,
  });
  client = firehoseClient({ endpoint: firehose.endpoint, region: 'eu-west-1', maxAttempts: 1 });
});

beforeEach(() => firehose.failNextPuts(0));

afterAll(async () => {
  client.destroy();
  await firehose.stop();
  kinesis.destroy();
  await emulator.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function quarantineObjects(): Promise<string[]> {
  const dir = join(dataDir, 's3', config.archive.bucket);
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  return files
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => p.includes(`${join(dir, 'quarantine')}/`));
}

describe('LocalFirehose Direct PUT API (real @aws-sdk/client-firehose)', () => {
  it('accepts PutRecordBatch and PutRecord and delivers the records concatenated under the quarantine prefix', async () => {
    const before = (await quarantineObjects().catch(() => [])).length;
    const res = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: Q,
        Records: [{ Data: enc('{"a":1}\n') }, { Data: enc('{"a":2}\n') }],
      }),
    );
    expect(res.FailedPutCount).toBe(0);
    expect(res.Encrypted).toBe(false);
    expect(res.RequestResponses).toHaveLength(2);
    for (const r of res.RequestResponses ?? []) expect(r.RecordId).toEqual(expect.any(String));
    const one = await client.send(
      new PutRecordCommand({ DeliveryStreamName: Q, Record: { Data: enc('{"a":3}\n') } }),
    );
    expect(one.RecordId).toEqual(expect.any(String));
    await firehose.flush();
    const objects = await quarantineObjects();
    expect(objects).toHaveLength(before + 1);
    const newest = objects.find((p) =>
      /quarantine\/dt=\d{4}-\d{2}-\d{2}-\d{2}\/shardline-quarantine-1-[-0-9]+-[0-9a-f-]{36}$/.test(p),
    );
    expect(newest).toBeDefined();
    expect(await readFile(newest ?? '', 'utf8')).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    expect(firehose.stats().directPutRecords).toBeGreaterThanOrEqual(3);
  });

  it('reports injected faults per entry, in request order, with FailedPutCount', async () => {
    firehose.failNextPuts(2);
    const res = await client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: Q,
        Records: ['x', 'y', 'z'].map((s) => ({ Data: enc(s) })),
      }),
    );
    expect(res.FailedPutCount).toBe(2);
    expect(res.RequestResponses?.map((r) => r.ErrorCode ?? 'ok')).toEqual([
      'ServiceUnavailableException',
      'ServiceUnavailableException',
      'ok',
    ]);
    firehose.failNextPuts(1);
    await expect(
      client.send(new PutRecordCommand({ DeliveryStreamName: Q, Record: { Data: enc('x') } })),
    ).rejects.toBeInstanceOf(ServiceUnavailableException);
  });

  it('validates PutRecordBatch limits like Firehose', async () => {
    const tooMany = client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: Q,
        Records: Array.from({ length: 501 }, () => ({ Data: enc('x') })),
      }),
    );
    await expect(tooMany).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/received 501/),
    });
    await expect(tooMany).rejects.toBeInstanceOf(FirehoseServiceException);

    const bigRecord = client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: Q, Records: [{ Data: new Uint8Array(1_024_001) }] }),
    );
    await expect(bigRecord).rejects.toMatchObject({ name: 'ValidationException' });
    const ok = await client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: Q, Records: [{ Data: new Uint8Array(1_024_000) }] }),
    );
    expect(ok.FailedPutCount).toBe(0);

    const tooBig = client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: Q,
        Records: Array.from({ length: 5 }, () => ({ Data: new Uint8Array(900_000) })),
      }),
    );
    await expect(tooBig).rejects.toBeInstanceOf(InvalidArgumentException);
  });

  it('rejects unknown streams and Put APIs on the Kinesis-source stream', async () => {
    await expect(
      client.send(new PutRecordCommand({ DeliveryStreamName: 'nope', Record: { Data: enc('x') } })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    const onArchive = client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: config.archive.deliveryStreamName,
        Records: [{ Data: enc('x') }],
      }),
    );
    await expect(onArchive).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(onArchive).rejects.toThrow(/KinesisStreamAsSource/);
  });

  it('describes and lists delivery streams', async () => {
    const list = await client.send(new ListDeliveryStreamsCommand({}));
    expect(list.DeliveryStreamNames).toEqual([config.archive.deliveryStreamName, Q].sort());
    expect(list.HasMoreDeliveryStreams).toBe(false);
    const direct = await client.send(new ListDeliveryStreamsCommand({ DeliveryStreamType: 'DirectPut' }));
    expect(direct.DeliveryStreamNames).toEqual([Q]);

    const d = await client.send(
      new DescribeDeliveryStreamCommand({ DeliveryStreamName: config.archive.deliveryStreamName }),
    );
    const desc = d.DeliveryStreamDescription;
    expect(desc?.DeliveryStreamType).toBe('KinesisStreamAsSource');
    expect(desc?.DeliveryStreamStatus).toBe('ACTIVE');
    expect(desc?.Source?.KinesisStreamSourceDescription?.KinesisStreamARN).toBe(
      'arn:aws:kinesis:eu-west-1:000000000000:stream/api-stream',
    );
    const s3 = desc?.Destinations?.[0]?.ExtendedS3DestinationDescription;
    expect(s3?.Prefix).toBe(config.archive.rawPrefix);
    expect(s3?.ErrorOutputPrefix).toBe(config.archive.errorPrefix);
    expect(s3?.BufferingHints).toEqual({ SizeInMBs: 64, IntervalInSeconds: 60 });
    expect(s3?.DataFormatConversionConfiguration?.Enabled).toBe(true);
    await expect(
      client.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'nope' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('validates its own options with the value received', async () => {
    await expect(
      LocalFirehose.start({
        config,
        dataDir,
        kinesisClient: kinesis,
        region: 'eu-west-1',
        pollIntervalMs: 5,
      }),
    ).rejects.toThrow('pollIntervalMs must be an integer between 10 and 60000; received 5');
    await expect(firehose.drain({ timeoutMs: 0 })).rejects.toThrow('received 0');
    expect(() => firehose.failNextPuts(-1)).toThrow('received -1');
  });
});
