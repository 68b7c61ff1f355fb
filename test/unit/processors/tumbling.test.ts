/**
 * Carried items after a write: an item the processor wrote is never folded into again, whatever else in
 * the batch failed, so a retry that brings more records cannot land inside a written item's range.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../common/config.ts';
import { validateEnvelope } from '../../../common/envelope.ts';
import { SHARDS_PK } from '../../../common/table.ts';
import { ensureTable } from '../../../infra/local/cloud.ts';
import { toPosition } from '../../../processors/core/position.ts';
import { eventOf, makeEvent, seq, startTestDynamo, T0, type TestDynamo } from '../../helpers/factories.ts';
import { expectedAggregates, readMergedAggregates, testProcessor } from '../../helpers/processor.ts';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo('unused');
});
afterAll(async () => dynamo.close());

const WINDOW = { start: new Date(T0).toISOString(), end: new Date(T0 + 900_000).toISOString() };

function finalInvoke(event: KinesisStreamEvent, state: unknown): KinesisStreamEvent {
  return Object.assign(event, {
    window: WINDOW,
    state,
    shardId: 'shardId-000000000000',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/shardline-events',
    isFinalInvokeForWindow: true,
    isWindowTerminatedEarly: false,
  });
}

describe('tumbling-window carry after a failed batch', () => {
  it('a retry with more records after the carry was written (checkpoint write failed) adds them exactly', async () => {
    // GIVEN the default rollups (some carried) on a tumbling window, and a checkpoint write that fails once
    const config = resolveConfig({
      table: { name: 'tw-retry' },
      processing: { allowedLatenessSeconds: 604_800 },
      eventSource: { tumblingWindowInSeconds: 900 },
    });
    await ensureTable(dynamo.client, config.table.name);
    const envelopes = Array.from({ length: 5 }, (_, i) =>
      makeEvent({ ts: new Date(T0 + i * 1_000).toISOString(), metrics: { temperature: 20 + i } }),
    );
    let checkpointFailures = 1;
    dynamo.client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Item?: { pk?: { S?: string } } };
        if (input.Item?.pk?.S === SHARDS_PK && checkpointFailures > 0) {
          checkpointFailures--;
          throw Object.assign(new Error('injected checkpoint failure'), { name: 'InternalServerError' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failCheckpointOnce' },
    );
    const processor = testProcessor(dynamo.client, config);
    try {
      // WHEN the window's last invocation writes its carried items, then fails on the checkpoint
      const first = await processor.processBatch(finalInvoke(eventOf(envelopes.slice(0, 3), 1), {}));
      expect(first.report.itemsFlushed).toBeGreaterThan(0);
      expect(first.response.batchItemFailures).toEqual([{ itemIdentifier: seq(1) }]);
      // AND Lambda retries from the first record with the returned state, and two more records arrived
      const retry = await processor.processBatch(finalInvoke(eventOf(envelopes, 1), first.response.state));
      // THEN the retry succeeds and every record counts once
      expect(retry.response.batchItemFailures).toEqual([]);
    } finally {
      dynamo.client.middlewareStack.remove('failCheckpointOnce');
    }
    const inputs = envelopes.map((e, k) => {
      const v = validateEnvelope(e);
      if (!v.ok) throw new Error(v.detail);
      return { position: toPosition(seq(k + 1)), event: v.event };
    });
    expect(await readMergedAggregates(dynamo.client, config)).toEqual(expectedAggregates(config, inputs));
  });
});
