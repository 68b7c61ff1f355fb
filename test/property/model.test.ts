/**
 * The model test: random event streams through the real local cloud (kinesalite, the event source mapping,
 * the real processor on dynalite) under random fault schedules (handler errors before/during/after writes,
 * reported failures, timeouts with zombies, duplicate deliveries, DynamoDB throttles, errors and lost
 * responses, GetRecords throttling, a split mid-stream) always end with aggregates equal to the fault-free
 * fold of the stream, and nothing discarded.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dynamodbClient, kinesisClient } from '../../common/aws.ts';
import { resolveConfig } from '../../common/config.ts';
import { type EnvelopeInput, encodeEnvelope, validateEnvelope } from '../../common/envelope.ts';
import { ChaosRun } from '../../infra/local/chaos/index.ts';
import { splitShard } from '../../infra/local/chaos/reshard.ts';
import { LocalCloud } from '../../infra/local/cloud.ts';
import { toPosition } from '../../processors/core/position.ts';
import { arbEnvelope as arbEnvelopeOf } from '../helpers/arbitraries.ts';
import { expectedAggregates, readCheckpoints, readMergedAggregates } from '../helpers/processor.ts';

const NOW = Date.now();
const rate = fc.double({ min: 0, max: 0.3, noNaN: true });

const arbEnvelope = arbEnvelopeOf({ fromMs: NOW - 30 * 60_000, toMs: NOW, sources: 5 });

const arbSchedule = fc.record({
  seed: fc.integer(),
  handlerErrorRate: rate,
  reportedFailureRate: rate,
  timeoutRate: fc.double({ min: 0, max: 0.05, noNaN: true }),
  duplicateRate: rate,
  dynamoThrottleRate: fc.double({ min: 0, max: 0.05, noNaN: true }),
  dynamoErrorRate: fc.double({ min: 0, max: 0.05, noNaN: true }),
  dynamoLostResponseRate: fc.double({ min: 0, max: 0.05, noNaN: true }),
  getRecordsThrottleRate: rate,
  split: fc.boolean(),
});

let runs = 0;
/** Faults injected over all runs, to show the property was exercised under faults. */
const total = { invocations: 0, functionErrors: 0, retries: 0, duplicates: 0, throttles: 0, timeouts: 0 };

describe('model: the local cloud under random faults', () => {
  it('ends with aggregates equal to the fault-free fold (property, real ESM + dynalite)', async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    console.log(`model.test fast-check seed ${seed}`);
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbEnvelope, { minLength: 1, maxLength: 120 }),
        arbSchedule,
        async (envelopes, schedule) => {
          const base = resolveConfig({
            stream: { name: `model-${++runs}`, shardCount: 2 },
            table: { name: `model-${runs}` },
            eventSource: { batchSize: 10, maximumBatchingWindowInSeconds: 0 },
          });
          const { split, ...faults } = schedule;
          const chaos = new ChaosRun(base, { ...faults, functionTimeoutSeconds: 1, reshard: false });
          const cloud = await LocalCloud.start({
            config: chaos.config,
            dataDir: mkdtempSync(join(tmpdir(), 'model-')),
            firehose: false,
            ...chaos.cloudOptions(),
            esmTuning: {
              ...chaos.cloudOptions().esmTuning,
              pollIntervalMs: 20,
              shardDiscoveryIntervalMs: 50,
              retryBackoffMs: 1,
            },
          });
          const kinesis = kinesisClient(cloud.clientOptions('kinesis'));
          const ddb = dynamodbClient(cloud.clientOptions('dynamodb'));
          try {
            const half = Math.ceil(envelopes.length / 2);
            const putAll = (list: EnvelopeInput[]) =>
              kinesis.send(
                new PutRecordsCommand({
                  StreamName: cloud.streamName,
                  Records: list.map((e) => ({
                    Data: new TextEncoder().encode(encodeEnvelope(e)),
                    PartitionKey: e.source,
                  })),
                }),
              );
            const first = await putAll(envelopes.slice(0, half));
            if (split) await splitShard(kinesis, cloud.streamName, () => 0);
            const second = half < envelopes.length ? await putAll(envelopes.slice(half)) : undefined;
            expect((first.FailedRecordCount ?? 0) + (second?.FailedRecordCount ?? 0)).toBe(0);
            await cloud.drain({ timeoutMs: 60_000 });

            const inputs = envelopes.map((e, k) => {
              const v = validateEnvelope(e);
              if (!v.ok) throw new Error(v.detail);
              return { position: toPosition(String(k + 1)), event: v.event };
            });
            expect(await readMergedAggregates(ddb, chaos.config)).toEqual(
              expectedAggregates(chaos.config, inputs),
            );
            const counters = await readCheckpoints(ddb, chaos.config.table.name);
            expect(counters.reduce((a, c) => a + c.aggregated, 0)).toBe(envelopes.length);
            expect(counters.reduce((a, c) => a + c.quarantined, 0)).toBe(0);
            const f = chaos.summary(cloud.stats().esm ?? []);
            expect(f.observed.onFailure).toBe(0);
            total.invocations += f.observed.invocations;
            total.functionErrors += f.observed.functionErrors;
            total.retries += f.retries;
            total.duplicates += f.duplicates;
            total.throttles += f.throttles;
            total.timeouts += f.timeouts;
          } finally {
            kinesis.destroy();
            ddb.destroy();
            await cloud.stop();
            chaos.close();
          }
        },
      ),
      { numRuns: 10, seed },
    );
    console.log(`model.test faults over all runs: ${JSON.stringify(total)}`);
    expect(total.functionErrors).toBeGreaterThan(0);
    expect(total.duplicates).toBeGreaterThan(0);
  }, 120_000);
});
