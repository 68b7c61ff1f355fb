/**
 * The event source mapping's failure handling against a real kinesalite: ReportBatchItemFailures,
 * function errors, retries, bisect, OnFailure records, record age and timeouts.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { parseBatchResponse } from '../../../../infra/local/private/event.ts';
import { esmHarness, eventSource, FUNCTION_ARN, REGION, recorder } from '../../../helpers/esm.ts';

const harness = esmHarness();
const { createStream, put, startEsm } = harness;

function seqs(event: KinesisStreamEvent | undefined): string[] {
  return (event?.Records ?? []).map((r) => r.kinesis.sequenceNumber);
}

async function putMany(stream: string, n: number, prefix = 'r'): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await put(stream, `${prefix}${i}`));
  return out;
}

function onFailureFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('parseBatchResponse', () => {
  const batch = ['100', '200', '300'];
  it.each([
    [''],
    [[]],
    [null],
    [undefined],
    [{}],
    [{ batchItemFailures: [] }],
    [{ batchItemFailures: null }],
  ])('treats %j as success', (response) => {
    expect(parseBatchResponse(response, batch)).toEqual({ kind: 'success' });
  });
  it('takes the lowest failed sequence number', () => {
    const response = { batchItemFailures: [{ itemIdentifier: '300' }, { itemIdentifier: '200' }] };
    expect(parseBatchResponse(response, batch)).toEqual({ kind: 'partial', index: 1 });
  });
  it.each([
    [{ batchItemFailures: [{ itemIdentifier: '' }] }],
    [{ batchItemFailures: [{ itemIdentifier: null }] }],
    [{ batchItemFailures: [{ itemIdentifier: '999' }] }],
    [{ batchItemFailures: [{ id: '200' }] }],
    [{ batchItemFailures: ['200'] }],
    [{ batchItemFailures: 'x' }],
  ])('treats %j as a whole-batch failure', (response) => {
    expect(parseBatchResponse(response, batch).kind).toBe('invalid');
  });
});

describe('ReportBatchItemFailures', () => {
  it('checkpoints before the lowest failed record and retries from it', async () => {
    const stream = await createStream();
    const sent = await putMany(stream, 10);
    const rec = recorder((event, n) =>
      n === 1
        ? { batchItemFailures: [{ itemIdentifier: seqs(event)[6] }, { itemIdentifier: seqs(event)[3] }] }
        : {},
    );
    const esm = await startEsm(stream, rec.handler);
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.calls.map((c) => seqs(c.event))).toEqual([sent, sent.slice(3)]);
    const s = esm.stats()[0];
    expect(s).toMatchObject({ partialFailures: 1, retries: 1, batchesSucceeded: 1, checkpoint: sent[9] });
  });

  it.each([
    ['empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['itemIdentifier not in the batch', { batchItemFailures: [{ itemIdentifier: '1' }] }],
    ['malformed entry', { batchItemFailures: [{ identifier: 'x' }] }],
  ])('retries the whole batch on %s', async (_name, response) => {
    const stream = await createStream();
    const sent = await putMany(stream, 4);
    const rec = recorder((_e, n) => (n === 1 ? response : null));
    const esm = await startEsm(stream, rec.handler);
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.calls.map((c) => seqs(c.event))).toEqual([sent, sent]);
  });

  it('ignores the response when ReportBatchItemFailures is off', async () => {
    const stream = await createStream();
    await putMany(stream, 3);
    const rec = recorder(() => ({ batchItemFailures: [{ itemIdentifier: '' }] }));
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ reportBatchItemFailures: false }),
    });
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.calls).toHaveLength(1);
  });

  it('a partial-failure retry counts against MaximumRetryAttempts', async () => {
    const stream = await createStream();
    const sent = await putMany(stream, 4);
    const onFailureDir = mkdtempSync(join(tmpdir(), 'esm-of-'));
    const rec = recorder((event) => ({ batchItemFailures: [{ itemIdentifier: seqs(event).at(-1) }] }));
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ maximumRetryAttempts: 1 }),
      onFailureDir,
    });
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.calls.map((c) => seqs(c.event))).toEqual([sent, sent.slice(3)]);
    const files = onFailureFiles(onFailureDir);
    expect(files).toHaveLength(1);
    const message = JSON.parse(readFileSync(files[0] ?? '', 'utf8'));
    expect(message.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(message.KinesisBatchInfo.startSequenceNumber).toBe(sent[3]);
    expect(esm.stats()[0]?.checkpoint).toBe(sent[3]);
  });
});

describe('function errors', () => {
  it('retries the whole batch after a thrown error, blocking the shard, until it succeeds', async () => {
    const stream = await createStream();
    const sent = await putMany(stream, 3);
    const rec = recorder((_e, n) => {
      if (n <= 2) throw new Error('boom');
      return {};
    });
    const esm = await startEsm(stream, rec.handler);
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.calls.map((c) => seqs(c.event))).toEqual([sent, sent, sent]);
    expect(esm.stats()[0]).toMatchObject({
      functionErrors: 2,
      retries: 2,
      batchesSucceeded: 1,
      checkpoint: sent[2],
    });
  });

  it('bisects a failing batch down to the poison record; splits do not count as retries', async () => {
    const stream = await createStream();
    const sent = await putMany(stream, 8);
    const poison = sent[5];
    const onFailureDir = mkdtempSync(join(tmpdir(), 'esm-of-'));
    const rec = recorder((event) => {
      if (seqs(event).includes(poison ?? '')) throw new Error('poison');
      return {};
    });
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 }),
      onFailureDir,
    });
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.calls.map((c) => c.event.Records.length)).toEqual([8, 4, 4, 2, 1, 1, 1, 2]);
    expect(esm.stats()[0]).toMatchObject({ bisects: 3, retries: 1, onFailure: 1, checkpoint: sent[7] });
    const message = JSON.parse(readFileSync(onFailureFiles(onFailureDir)[0] ?? '', 'utf8'));
    expect(message.KinesisBatchInfo).toMatchObject({
      startSequenceNumber: poison,
      endSequenceNumber: poison,
      batchSize: 1,
    });
    expect(message.requestContext.approximateInvokeCount).toBe(2);
  });

  it('after MaximumRetryAttempts writes the OnFailure record in AWS shape and moves on', async () => {
    const stream = await createStream();
    const sent = await putMany(stream, 3, 'bad');
    const onFailureDir = mkdtempSync(join(tmpdir(), 'esm-of-'));
    const rec = recorder((event) => {
      if (
        Buffer.from(event.Records[0]?.kinesis.data ?? '', 'base64')
          .toString()
          .startsWith('bad')
      )
        throw new Error('no');
      return {};
    });
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ maximumRetryAttempts: 2 }),
      onFailureDir,
    });
    await esm.drain({ timeoutMs: 10_000 });
    const good = await put(stream, 'good');
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.calls.map((c) => seqs(c.event))).toEqual([sent, sent, sent, [good]]);
    const files = onFailureFiles(onFailureDir);
    expect(files).toHaveLength(1);
    const key = files[0]?.slice(onFailureDir.length + 1) ?? '';
    expect(key).toMatch(
      new RegExp(
        `^aws/lambda/${esm.uuid}/shardId-000000000000/\\d{4}/\\d{2}/\\d{2}/\\d{4}-\\d{2}-\\d{2}T\\d{2}\\.\\d{2}\\.\\d{2}-[0-9a-f-]{36}$`,
      ),
    );
    const message = JSON.parse(readFileSync(files[0] ?? '', 'utf8'));
    const lastCall = rec.calls[2];
    expect(Object.keys(message)).toEqual([
      'requestContext',
      'responseContext',
      'version',
      'timestamp',
      'KinesisBatchInfo',
      'payload',
    ]);
    expect(message).toEqual({
      requestContext: {
        requestId: lastCall?.context.awsRequestId,
        functionArn: FUNCTION_ARN,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      KinesisBatchInfo: {
        shardId: 'shardId-000000000000',
        startSequenceNumber: sent[0],
        endSequenceNumber: sent[2],
        approximateArrivalOfFirstRecord: new Date(
          (lastCall?.event.Records[0]?.kinesis.approximateArrivalTimestamp ?? 0) * 1000,
        ).toISOString(),
        approximateArrivalOfLastRecord: new Date(
          (lastCall?.event.Records[2]?.kinesis.approximateArrivalTimestamp ?? 0) * 1000,
        ).toISOString(),
        batchSize: 3,
        streamArn: `arn:aws:kinesis:${REGION}:000000000000:stream/${stream}`,
      },
      payload: lastCall?.event,
    });
    expect(esm.stats()[0]).toMatchObject({ onFailure: 1, retries: 2, functionErrors: 3, checkpoint: good });
  });

  it('discards a batch whose oldest record is older than MaximumRecordAgeInSeconds (RecordAgeExceeded)', async () => {
    const stream = await createStream();
    const sent = await putMany(stream, 2);
    const onFailureDir = mkdtempSync(join(tmpdir(), 'esm-of-'));
    let skew = 0;
    const rec = recorder(() => {
      skew = 120_000; // the records are now two minutes old
      throw new Error('fails');
    });
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ maximumRecordAgeInSeconds: 60 }),
      onFailureDir,
      clock: () => Date.now() + skew,
    });
    await esm.drain({ timeoutMs: 10_000 });
    expect(rec.calls).toHaveLength(1);
    const message = JSON.parse(readFileSync(onFailureFiles(onFailureDir)[0] ?? '', 'utf8'));
    expect(message.requestContext).toMatchObject({
      condition: 'RecordAgeExceeded',
      approximateInvokeCount: 1,
    });
    expect(message).not.toHaveProperty('responseContext');
    expect(message.KinesisBatchInfo).toMatchObject({
      startSequenceNumber: sent[0],
      endSequenceNumber: sent[1],
      batchSize: 2,
    });
    expect(esm.stats()[0]?.checkpoint).toBe(sent[1]);
  });

  it('fails an invocation at the function timeout and retries while the zombie keeps running', async () => {
    const stream = await createStream();
    const sent = await putMany(stream, 2);
    let releaseZombie: () => void = () => undefined;
    let zombieDone = false;
    let zombieRunningAtRetry: boolean | undefined;
    const rec = recorder(async (_e, n) => {
      if (n === 1) {
        await new Promise<void>((r) => {
          releaseZombie = r;
        });
        zombieDone = true;
        return {};
      }
      zombieRunningAtRetry = !zombieDone;
      return {};
    });
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ functionTimeoutSeconds: 1 }),
    });
    await esm.drain({ timeoutMs: 10_000 });
    releaseZombie();
    expect(rec.calls.map((c) => seqs(c.event))).toEqual([sent, sent]);
    expect(zombieRunningAtRetry).toBe(true);
    expect(esm.stats()[0]).toMatchObject({ functionErrors: 1, timeouts: 1, retries: 1, batchesSucceeded: 1 });
  });
});
