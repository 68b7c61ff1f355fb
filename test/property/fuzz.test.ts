/**
 * Arbitrary bytes through the real handler (against dynalite): it never throws on bad data, never blocks
 * the shard (no batchItemFailures), and every user record is either aggregated or quarantined with a reason.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../common/config.ts';
import { encodeEnvelope, QUARANTINE_REASONS } from '../../common/envelope.ts';
import { eventOf, makeEvent, startTestDynamo, type TestDynamo } from '../helpers/factories.ts';
import { readCheckpoints, recordingSink, testProcessor } from '../helpers/processor.ts';

let dynamo: TestDynamo;
const config = resolveConfig({ table: { name: 'fuzz' } });
beforeAll(async () => {
  dynamo = await startTestDynamo('fuzz');
});
afterAll(async () => dynamo.close());

const arbPayload = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.string().map((s) => Buffer.from(s)),
  fc.json().map((s) => Buffer.from(s)),
  fc.constant(Buffer.from(encodeEnvelope(makeEvent()))),
  fc
    .record({ metrics: fc.dictionary(fc.string(), fc.oneof(fc.double(), fc.string())) })
    .map((p) => Buffer.from(JSON.stringify({ ...makeEvent(), ...p }))),
  fc
    .uint8Array({ maxLength: 100 })
    .map((b) => Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), Buffer.from(b)])),
);

describe('fuzzing the handler with arbitrary bytes', () => {
  it('never throws, never blocks, and accounts for every record', async () => {
    let from = 1;
    await fc.assert(
      fc.asyncProperty(fc.array(arbPayload, { minLength: 1, maxLength: 20 }), async (payloads) => {
        const sink = recordingSink();
        const handler = testProcessor(dynamo.client, config, sink);
        const before = (await readCheckpoints(dynamo.client, config.table.name))[0];
        const { response: res, report } = await handler.processBatch(eventOf(payloads, from));
        from += payloads.length;
        expect(res.batchItemFailures).toEqual([]);
        expect(report.aggregated + report.quarantined).toBe(report.userRecords);
        expect(sink.records).toHaveLength(report.quarantined);
        for (const q of sink.records) {
          expect(QUARANTINE_REASONS).toContain(q.reason);
          expect(q.detail.length).toBeGreaterThan(0);
        }
        const after = (await readCheckpoints(dynamo.client, config.table.name))[0]!;
        expect(after.records - (before?.records ?? 0)).toBe(payloads.length);
      }),
      { numRuns: 60 },
    );
  });
});
