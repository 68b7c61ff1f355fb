import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../common/config.ts';
import { validateEnvelope } from '../../../common/envelope.ts';
import { ensureTable } from '../../../infra/local/cloud.ts';
import { toPosition } from '../../../processors/core/position.ts';
import { eventOf, makeEvent, startTestDynamo, T0, type TestDynamo } from '../../helpers/factories.ts';
import {
  expectedAggregates,
  readCheckpoints,
  readMergedAggregates,
  recordingSink,
  testProcessor,
} from '../../helpers/processor.ts';

let dynamo: TestDynamo;
let table = 0;
const configFor = () => resolveConfig({ table: { name: `agg-${++table}` } });
let config = configFor();

beforeAll(async () => {
  dynamo = await startTestDynamo('unused');
});
afterAll(async () => dynamo.close());
beforeEach(async () => {
  config = configFor();
  await ensureTable(dynamo.client, config.table.name);
});

const ok = (e: ReturnType<typeof makeEvent>) => {
  const r = validateEnvelope(e);
  if (!r.ok) throw new Error(r.detail);
  return r.event;
};

describe('processor handler', () => {
  it('folds a batch into DynamoDB aggregates equal to an independent fold', async () => {
    // GIVEN 50 valid events over two sites and two minutes
    const envelopes = Array.from({ length: 50 }, (_, i) =>
      makeEvent({
        source: `device-${i % 5}`,
        ts: new Date(T0 + i * 2_500).toISOString(),
        metrics: { temperature: 20 + (i % 7) * 0.1, humidity: 40 + i },
        dims: { site: i % 2 ? 'berlin' : 'oslo' },
      }),
    );
    const handler = testProcessor(dynamo.client, config);
    // WHEN the handler processes them as one Kinesis batch
    const { response: res } = await handler.processBatch(eventOf(envelopes));
    // THEN nothing fails and the table holds exactly the fold of the events
    expect(res.batchItemFailures).toEqual([]);
    const inputs = envelopes.map((e, i) => ({
      position: toPosition(eventOf([e], i + 1).Records[0]!.kinesis.sequenceNumber),
      event: ok(e),
    }));
    expect(await readMergedAggregates(dynamo.client, config)).toEqual(expectedAggregates(config, inputs));
    const [cp] = await readCheckpoints(dynamo.client, config.table.name);
    expect(cp).toMatchObject({
      shardId: 'shardId-000000000000',
      records: 50,
      aggregated: 50,
      quarantined: 0,
    });
  });

  it('leaves the table unchanged when the same batch is delivered again', async () => {
    const envelopes = Array.from({ length: 20 }, (_, i) => makeEvent({ metrics: { temperature: i } }));
    const handler = testProcessor(dynamo.client, config);
    await handler.processBatch(eventOf(envelopes));
    const before = await readMergedAggregates(dynamo.client, config);
    const fresh = testProcessor(dynamo.client, config); // a new container: no cache
    const { response: res, report } = await fresh.processBatch(eventOf(envelopes));
    expect(res.batchItemFailures).toEqual([]);
    expect(report).toMatchObject({ itemsWritten: 0, itemsSkipped: expect.any(Number) });
    expect(await readMergedAggregates(dynamo.client, config)).toEqual(before);
    expect((await readCheckpoints(dynamo.client, config.table.name))[0]).toMatchObject({
      records: 20,
      aggregated: 20,
    });
  });

  it('adds only the new records of a partially applied batch', async () => {
    const envelopes = Array.from({ length: 30 }, (_, i) => makeEvent({ metrics: { temperature: i } }));
    const first = testProcessor(dynamo.client, config);
    await first.processBatch(eventOf(envelopes.slice(0, 20), 1));
    // replay from record 11 with ten new records after the old ones
    const second = testProcessor(dynamo.client, config);
    await second.processBatch(eventOf(envelopes.slice(10), 11));
    const inputs = envelopes.map((e, i) => ({
      position: toPosition(eventOf([e], i + 1).Records[0]!.kinesis.sequenceNumber),
      event: ok(e),
    }));
    expect(await readMergedAggregates(dynamo.client, config)).toEqual(expectedAggregates(config, inputs));
  });

  it('quarantines bad records with a reason and keeps going', async () => {
    const sink = recordingSink();
    const handler = testProcessor(dynamo.client, config, sink);
    const good = makeEvent();
    const { response: res } = await handler.processBatch(
      eventOf([
        '{not json',
        Buffer.from([0xff, 0xfe, 0x00]),
        '',
        JSON.stringify({ ...good, eventId: 'x1', metrics: { temperature: 'hot' } }),
        JSON.stringify({ ...good, eventId: 'x2', v: 2 }),
        good,
        JSON.stringify({ ...good, eventId: 'late-1', ts: new Date(T0 - 2 * 3_600_000).toISOString() }),
      ]),
    );
    expect(res.batchItemFailures).toEqual([]);
    expect(sink.records.map((r) => r.reason)).toEqual([
      'invalid_json',
      'invalid_utf8',
      'empty_data',
      'schema_violation',
      'unsupported_version',
      'late',
    ]);
    expect(sink.records[3]!.detail).toContain('metrics.temperature');
    expect(sink.records[5]).toMatchObject({ eventId: 'late-1', shardId: 'shardId-000000000000' });
    expect(Buffer.from(sink.records[1]!.data, 'base64')).toEqual(Buffer.from([0xff, 0xfe, 0x00]));
    const [cp] = await readCheckpoints(dynamo.client, config.table.name);
    expect(cp).toMatchObject({ records: 7, aggregated: 1, quarantined: 6, late: 1 });
  });

  it('quarantines the aws-lambda-go sample event (not our envelope) and reports no failures', async () => {
    const sample = JSON.parse(
      readFileSync(new URL('../../fixtures/kinesis-time-window-event.json', import.meta.url), 'utf8'),
    );
    const sink = recordingSink();
    const { response: res } = await testProcessor(dynamo.client, config, sink).processBatch(sample);
    expect(res.batchItemFailures).toEqual([]);
    expect(sink.records).toHaveLength(sample.Records.length);
    expect(sink.records[0]).toMatchObject({
      reason: 'invalid_json',
      sequenceNumber: sample.Records[0].kinesis.sequenceNumber,
    });
  });

  it('reports the lowest sequence number of a failed write as the retry point', async () => {
    const handler = testProcessor(dynamo.client, resolveConfig({ table: { name: 'no-such-table' } }));
    const { response: res } = await handler.processBatch(eventOf([makeEvent(), makeEvent()], 7));
    expect(res.batchItemFailures).toEqual([
      { itemIdentifier: eventOf([makeEvent()], 7).Records[0]!.kinesis.sequenceNumber },
    ]);
  });
});

describe('processorFromEnvironment', () => {
  it('publishes Powertools EMF metrics per invocation when running in Lambda', async () => {
    const { processorFromEnvironment } = await import('../../../processors/handler.ts');
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const handler = processorFromEnvironment({
        ...process.env,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_LAMBDA_FUNCTION_NAME: 'shardline-processor',
        SHARDLINE_CONFIG: JSON.stringify({ table: { name: config.table.name } }),
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      });
      const res = await handler(eventOf([makeEvent(), makeEvent()]));
      expect(res.batchItemFailures).toEqual([]);
    } finally {
      process.stdout.write = write;
    }
    const emf = lines.map((l) => JSON.parse(l)).find((o) => o._aws);
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('Shardline');
    expect(emf).toMatchObject({
      service: 'shardline-processor',
      AggregatedRecords: 2,
      QuarantinedRecords: 0,
    });
  });
});
