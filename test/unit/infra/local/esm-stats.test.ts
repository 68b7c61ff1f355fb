/**
 * The mapping's progress counters: records past the checkpoint count once each, however often they were
 * delivered (what the pipeline benchmark waits on).
 */
import { describe, expect, it } from 'vitest';
import { esmHarness, eventSource, recorder } from '../../../helpers/esm.ts';

const harness = esmHarness();
const { createStream, put, startEsm } = harness;

describe('recordsCheckpointed', () => {
  it('counts each record once, across a partial failure and its retry', async () => {
    // Arrange: 6 records; the first invocation reports the 4th as failed, so 3 are redelivered.
    const stream = await createStream();
    const seqs: string[] = [];
    for (let i = 0; i < 6; i++) seqs.push(await put(stream, `r${i}`));
    const rec = recorder((_, n) => (n === 1 ? { batchItemFailures: [{ itemIdentifier: seqs[3] }] } : {}));
    const before = Date.now();
    // Act
    const esm = await startEsm(stream, rec.handler, { eventSource: eventSource({ batchSize: 10 }) });
    await esm.drain({ timeoutMs: 10_000 });
    // Assert
    const [stats] = esm.stats();
    expect(stats).toMatchObject({ recordsDelivered: 9, recordsCheckpointed: 6, checkpoint: seqs[5] });
    expect(stats?.lastCheckpointAt).toBeGreaterThanOrEqual(before);
  });

  it('is zero, with no checkpoint time, before anything was processed', async () => {
    const stream = await createStream();
    const rec = recorder();
    const esm = await startEsm(stream, rec.handler);
    await esm.drain({ timeoutMs: 10_000 });
    expect(esm.stats()[0]).toMatchObject({ recordsCheckpointed: 0, lastCheckpointAt: null });
  });
});
