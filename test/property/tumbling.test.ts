/**
 * Freshness policies: `live` and `onClose` rollups, folded through Lambda tumbling-window state under any
 * window schedule (closes, early terminations, batches delivered again with the state before or after
 * them), end with the same aggregates as the per-event reference fold.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ROLLUPS, resolveConfig } from '../../common/config.ts';
import { type EnvelopeInput, encodeEnvelope, validateEnvelope } from '../../common/envelope.ts';
import { ensureTable } from '../../infra/local/cloud.ts';
import { toPosition } from '../../processors/core/position.ts';
import { arbEnvelope as arbEnvelopeOf } from '../helpers/arbitraries.ts';
import { eventOf, seq, startTestDynamo, T0, type TestDynamo } from '../helpers/factories.ts';
import {
  expectedAggregates,
  readCheckpoints,
  readMergedAggregates,
  testProcessor,
} from '../helpers/processor.ts';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo('unused');
});
afterAll(async () => dynamo.close());

const arbEnvelope = arbEnvelopeOf({
  fromMs: T0,
  toMs: T0 + 2 * 3_600_000,
  sources: 5,
  types: ['telemetry', 'pageview'],
  pages: true,
});

/** One step: a batch, then maybe a redelivery of it (with the state before or after), then maybe a close. */
const arbStep = fc.record({
  length: fc.integer({ min: 1, max: 20 }),
  redeliver: fc.constantFrom('none', 'before', 'after'),
  close: fc.constantFrom('none', 'final', 'early'),
});

let tables = 0;

const WINDOW = { start: new Date(T0).toISOString(), end: new Date(T0 + 900_000).toISOString() };

function windowed(event: KinesisStreamEvent, state: unknown, close: 'none' | 'final' | 'early') {
  return Object.assign(event, {
    window: WINDOW,
    state,
    shardId: 'shardId-000000000000',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/shardline-events',
    isFinalInvokeForWindow: close !== 'none',
    isWindowTerminatedEarly: close === 'early',
  });
}

describe('freshness policies under tumbling windows', () => {
  it('live and onClose rollups end equal to the per-event reference fold (property, dynalite)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbEnvelope, { minLength: 1, maxLength: 60 }),
        fc.array(arbStep, { minLength: 1, maxLength: 20 }),
        async (envelopes, steps) => {
          const config = resolveConfig({
            table: { name: `tw-${++tables}` },
            processing: { allowedLatenessSeconds: 604_800 },
            eventSource: { tumblingWindowInSeconds: 900 },
            // The default rollups (live and onClose) plus an onClose one with a fine window and sketches.
            rollups: [
              ...DEFAULT_ROLLUPS,
              {
                name: 'tw_sketches',
                metrics: ['temperature', 'humidity'],
                by: ['dims.site'],
                windows: ['1m', '1h'],
                stats: ['count', 'sum', 'p50', 'p99', 'distinct:source'],
                freshness: 'onClose',
              },
            ],
          });
          await ensureTable(dynamo.client, config.table.name);
          const arrival = T0 + 3 * 3_600_000;
          const batch = (from: number, to: number) => {
            const ev = eventOf(
              envelopes.slice(from, to).map((e) => encodeEnvelope(e)),
              from + 1,
            );
            for (const r of ev.Records) r.kinesis.approximateArrivalTimestamp = arrival / 1000;
            return ev;
          };
          const processor = testProcessor(dynamo.client, config);
          let state: unknown = {};
          let from = 0;
          let i = 0;
          let carried = 0;
          const invoke = async (event: KinesisStreamEvent) => {
            const { response, report } = await processor.processBatch(event);
            expect(response.batchItemFailures).toEqual([]);
            expect(response.state).toBeDefined();
            carried = Math.max(carried, report.itemsCarried);
            return response.state;
          };
          while (from < envelopes.length) {
            const step = steps[i++ % steps.length]!;
            const to = Math.min(envelopes.length, from + step.length);
            const before = state;
            state = await invoke(windowed(batch(from, to), before, 'none'));
            if (step.redeliver === 'before') state = await invoke(windowed(batch(from, to), before, 'none'));
            if (step.redeliver === 'after') state = await invoke(windowed(batch(from, to), state, 'none'));
            if (step.close !== 'none') {
              const closing = state;
              state = await invoke(windowed({ Records: [] }, closing, step.close));
              // A final invocation retried (its first outcome lost) writes nothing twice.
              if (step.redeliver !== 'none') await invoke(windowed({ Records: [] }, closing, step.close));
              expect((state as { items: unknown }).items).toEqual({});
            }
            from = to;
          }
          await invoke(windowed({ Records: [] }, state, 'final'));
          // Something was carried: the property is not vacuous.
          expect(carried).toBeGreaterThan(0);
          const inputs = envelopes.map((e, k) => {
            const v = validateEnvelope(e);
            if (!v.ok) throw new Error(v.detail);
            return { position: toPosition(seq(k + 1)), event: v.event };
          });
          expect(await readMergedAggregates(dynamo.client, config)).toEqual(
            expectedAggregates(config, inputs),
          );
          const [cp] = await readCheckpoints(dynamo.client, config.table.name);
          expect(cp).toMatchObject({ records: envelopes.length, aggregated: envelopes.length });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('without a tumbling window nothing is carried: every item is written in its batch', async () => {
    const config = resolveConfig({ table: { name: `tw-${++tables}` } });
    await ensureTable(dynamo.client, config.table.name);
    const envs = [
      { ...base(), source: 'device-1' },
      { ...base(), source: 'device-2' },
    ];
    const { response, report } = await testProcessor(dynamo.client, config).processBatch(eventOf(envs));
    expect(response.state).toBeUndefined();
    expect(report.itemsCarried).toBe(0);
    const inputs = envs.map((e, k) => {
      const v = validateEnvelope(e);
      if (!v.ok) throw new Error(v.detail);
      return { position: toPosition(seq(k + 1)), event: v.event };
    });
    expect(await readMergedAggregates(dynamo.client, config)).toEqual(expectedAggregates(config, inputs));
  });
});

function base(): EnvelopeInput {
  return {
    v: 1,
    eventId: `e-${Math.random().toString(36).slice(2)}`,
    source: 'device-1',
    type: 'telemetry',
    ts: new Date(T0).toISOString(),
    metrics: { temperature: 20 },
    dims: { site: 'berlin' },
  };
}
