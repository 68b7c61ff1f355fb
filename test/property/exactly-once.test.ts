import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ROLLUPS, resolveConfig } from '../../common/config.ts';
import { encodeEnvelope, validateEnvelope } from '../../common/envelope.ts';
import { ensureTable } from '../../infra/local/cloud.ts';
import { toPosition } from '../../processors/core/position.ts';
import type { Processor } from '../../processors/processor.ts';
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

const arbEnvelope = arbEnvelopeOf({ fromMs: T0, toMs: T0 + 2 * 3_600_000 });

/** One delivery: records [start, start+length) (clamped), possibly twice at once, possibly by a cold container. */
const arbStep = fc.record({
  replayFrom: fc.double({ min: 0, max: 1, noNaN: true }),
  length: fc.integer({ min: 1, max: 25 }),
  concurrent: fc.boolean(),
  cold: fc.boolean(),
});

let tables = 0;

describe('exactly once under any delivery schedule', () => {
  it('ends with aggregates equal to the fault-free fold (property, dynalite)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbEnvelope, { minLength: 1, maxLength: 60 }),
        fc.array(arbStep, { minLength: 1, maxLength: 30 }),
        async (envelopes, steps) => {
          const config = resolveConfig({
            table: { name: `eo-${++tables}` },
            processing: { allowedLatenessSeconds: 604_800 },
            // The default rollups plus one with quantile and distinct-count sketches (negative values too).
            rollups: [
              ...DEFAULT_ROLLUPS,
              {
                name: 'eo_sketches',
                metrics: ['temperature', 'humidity'],
                by: ['dims.site'],
                windows: ['1m', '1h'],
                stats: ['count', 'sum', 'p50', 'p99.9', 'distinct:source', 'distinct:eventId'],
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
          let processor: Processor = testProcessor(dynamo.client, config);
          let covered = 0;
          let i = 0;
          // Replays start anywhere already delivered; the schedule ends once every record is covered.
          while (covered < envelopes.length) {
            const step = steps[i++ % steps.length]!;
            const from = Math.min(covered, Math.floor(step.replayFrom * (covered + 1)));
            // Every delivery reaches at least one record past what is covered, so the schedule ends.
            const to = Math.min(envelopes.length, Math.max(from + step.length, covered + 1));
            if (step.cold) processor = testProcessor(dynamo.client, config);
            const runs = step.concurrent ? [processor, testProcessor(dynamo.client, config)] : [processor];
            const results = await Promise.all(runs.map((p) => p.processBatch(batch(from, to))));
            for (const r of results) expect(r.response.batchItemFailures).toEqual([]);
            covered = Math.max(covered, to);
          }
          const inputs = envelopes.map((e, k) => {
            const v = validateEnvelope(e);
            if (!v.ok) throw new Error(v.detail);
            return { position: toPosition(seq(k + 1)), event: v.event };
          });
          // With quantiles: sketches equal bit for bit whatever the delivery schedule.
          expect(await readMergedAggregates(dynamo.client, config)).toEqual(
            expectedAggregates(config, inputs),
          );
          const [cp] = await readCheckpoints(dynamo.client, config.table.name);
          expect(cp).toMatchObject({
            records: envelopes.length,
            aggregated: envelopes.length,
            quarantined: 0,
          });
        },
      ),
      { numRuns: 25 },
    );
  });
});
