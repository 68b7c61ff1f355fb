/**
 * Producer properties: chunking never exceeds a limit, and under random injected partial failures every
 * accepted record ends up either in the stream exactly once or reported failed exactly once.
 * Failures print the fast-check seed and path; replay with FC_SEED=<seed>.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Clock, chunkRequests, type FailedRecord, Producer } from '../../producers/sdk/index.ts';
import { injectFaults, type LocalKinesis, startKinesalite } from '../helpers/kinesalite.ts';

const seed = process.env.FC_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FC_SEED);
console.info(`producer properties: fast-check seed ${seed}`);

let kinesis: LocalKinesis;
beforeAll(async () => {
  kinesis = await startKinesalite();
});
afterAll(async () => {
  await kinesis.close();
});

describe('chunkRequests', () => {
  it('never exceeds a limit and keeps every item once, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 5000, max: 50_000 }),
        (sizes, maxRecords, maxBytes) => {
          const items = sizes.map((size, id) => ({ id, size }));
          const chunks = chunkRequests(items, (i) => i.size, {
            maxRecordsPerRequest: maxRecords,
            maxRequestBytes: maxBytes,
            maxRecordBytes: 5000,
          });
          for (const c of chunks) {
            expect(c.length).toBeGreaterThan(0);
            expect(c.length).toBeLessThanOrEqual(maxRecords);
            expect(c.reduce((n, i) => n + i.size, 0)).toBeLessThanOrEqual(maxBytes);
          }
          expect(chunks.flat().map((i) => i.id)).toEqual(items.map((i) => i.id));
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});

const CODES = [
  undefined,
  undefined,
  'ProvisionedThroughputExceededException',
  'InternalFailure',
  'AccessDeniedException',
] as const;
const instant: Clock = { now: () => Date.now(), sleep: async () => {} };
let streamNo = 0;

describe('Producer under injected partial failures', () => {
  it('loses nothing: each accepted record is in the stream once or reported failed once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 80 }),
        fc.array(fc.integer({ min: 0, max: CODES.length - 1 }), { minLength: 1, maxLength: 50 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        async (sizes, faultPattern, throttlePattern, maxAttempts, maxRecordsPerRequest, aggregate) => {
          const stream = `prop${++streamNo}`;
          await kinesis.createStream(stream, 2);
          const client = kinesis.client();
          let entry = 0;
          const { calls } = injectFaults(
            client,
            () => CODES[faultPattern[entry++ % faultPattern.length] as number],
            (call) => throttlePattern[call % throttlePattern.length] === true && call < 6,
          );
          const failures: FailedRecord[] = [];
          const producer = new Producer({
            streamName: stream,
            client,
            clock: instant,
            random: () => 0.5,
            aggregate,
            maxRecordsPerRequest,
            maxRequestBytes: 12_000,
            maxRecordBytes: 8_000,
            maxInFlightRequests: 2,
            retry: { maxAttempts },
            onFailure: (f) => failures.push(f),
          });
          const payload = (i: number, size: number) => {
            const tag = `#${i}#`;
            return new TextEncoder().encode(tag + 'x'.repeat(Math.max(0, size - tag.length)));
          };
          for (const [i, size] of sizes.entries()) await producer.sendRaw(payload(i, size), `k${i % 5}`);
          await producer.close();

          for (const c of calls) {
            expect((c.Records ?? []).length).toBeLessThanOrEqual(maxRecordsPerRequest);
            const bytes = (c.Records ?? []).reduce(
              (n, r) => n + (r.Data?.byteLength ?? 0) + (r.PartitionKey?.length ?? 0),
              0,
            );
            expect(bytes).toBeLessThanOrEqual(12_000);
          }
          const tagOf = (d: Uint8Array) => /^#(\d+)#/.exec(new TextDecoder().decode(d.subarray(0, 16)))?.[1];
          const stored: string[] = [];
          const { createRequire } = await import('node:module');
          const agg = createRequire(import.meta.url)('aws-kinesis-agg') as {
            deaggregateSync(
              r: object,
              c: boolean,
              cb: (e: Error | null, rs?: { data: string }[]) => void,
            ): void;
          };
          for (const r of await kinesis.readAll(stream)) {
            agg.deaggregateSync(
              {
                partitionKey: r.partitionKey,
                sequenceNumber: r.sequenceNumber,
                data: Buffer.from(r.data).toString('base64'),
              },
              true,
              (err, users) => {
                expect(err).toBeFalsy();
                for (const u of users ?? []) stored.push(tagOf(Buffer.from(u.data, 'base64')) ?? '?');
              },
            );
          }
          const failed = failures.map((f) => tagOf(f.data) ?? '?');
          const all = [...stored, ...failed].sort((a, b) => Number(a) - Number(b));
          expect(all).toEqual(sizes.map((_, i) => String(i)));
          const s = producer.stats();
          expect(s.sent).toBe(stored.length);
          expect(s.failed).toBe(failed.length);
          expect(s.accepted).toBe(sizes.length);
          expect(s.buffered).toBe(0);
        },
      ),
      { seed, numRuns: 40 },
    );
  }, 60_000);
});
