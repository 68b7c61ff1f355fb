import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../common/config.ts';
import { encodeEnvelope } from '../../../../common/envelope.ts';
import { decodeRecords } from '../../../../processors/adapters/decode.ts';
import { eventOf, kinesisRecord, makeEvent, seq, T0 } from '../../../helpers/factories.ts';

const { RecordAggregator } = createRequire(import.meta.url)('aws-kinesis-agg') as {
  RecordAggregator: new () => {
    addUserRecord(r: { partitionKey: string; data: Buffer }): void;
    build(): { data: Buffer };
  };
};
const processing = resolveConfig().processing;

function kpl(payloads: readonly (string | Buffer)[]): Buffer {
  const agg = new RecordAggregator();
  for (const p of payloads) agg.addUserRecord({ partitionKey: 'device-1', data: Buffer.from(p) });
  return agg.build().data;
}

describe('decodeRecords', () => {
  it('decodes plain records with their origin', () => {
    const e = makeEvent();
    const [out] = decodeRecords(eventOf([e], 5, 'shardId-000000000003').Records, processing);
    expect(out).toMatchObject({
      ok: true,
      origin: {
        shardId: 'shardId-000000000003',
        sequenceNumber: seq(5),
        subSequenceNumber: 0,
        arrivalMs: T0 + 1000,
      },
    });
  });

  it('deaggregates KPL records into user records sharing the sequence number', () => {
    const a = makeEvent();
    const b = makeEvent();
    const rec = kinesisRecord({ data: kpl([encodeEnvelope(a), '{bad']), sequenceNumber: seq(9) });
    const out = decodeRecords([rec], processing);
    expect(out.map((o) => [o.ok, o.origin.sequenceNumber, o.origin.subSequenceNumber])).toEqual([
      [true, seq(9), 0],
      [false, seq(9), 1],
    ]);
    void b;
  });

  it('quarantines a KPL record with a bad checksum as kpl_invalid, keeping its bytes', () => {
    const data = kpl([encodeEnvelope(makeEvent())]);
    data[data.length - 1] = data[data.length - 1]! ^ 0xff;
    const [out] = decodeRecords([kinesisRecord({ data, sequenceNumber: seq(1) })], processing);
    expect(out).toMatchObject({ ok: false, reason: 'kpl_invalid' });
    expect(!out!.ok && out!.data).toEqual(data);
  });

  it('quarantines a valid KPL aggregate holding no user record instead of dropping it', () => {
    const pb = Buffer.from([0x0a, 0x01, 0x61]); // partition_key_table ["a"], no records
    const data = Buffer.concat([
      Buffer.from([0xf3, 0x89, 0x9a, 0xc2]),
      pb,
      createHash('md5').update(pb).digest(),
    ]);
    const out = decodeRecords([kinesisRecord({ data, sequenceNumber: seq(1) })], processing);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      ok: false,
      reason: 'kpl_invalid',
      detail: 'KPL aggregated record holds no user records',
    });
  });

  it('quarantines oversize, future and malformed-sequence records', () => {
    const big = JSON.stringify({ ...makeEvent(), dims: { site: 'x' } }).padEnd(40_000, ' ');
    const future = makeEvent({ ts: new Date(T0 + 3_600_000).toISOString() });
    const out = decodeRecords(
      [
        kinesisRecord({ data: big, sequenceNumber: seq(1) }),
        kinesisRecord({ data: encodeEnvelope(future), sequenceNumber: seq(2) }),
        kinesisRecord({ data: encodeEnvelope(makeEvent()), sequenceNumber: '0123' }),
      ],
      processing,
    );
    expect(out.map((o) => (o.ok ? 'ok' : o.reason))).toEqual([
      'oversize',
      'future_timestamp',
      'schema_violation',
    ]);
  });

  it('honours the configured lateness', () => {
    const e = makeEvent({ ts: new Date(T0 - 10 * 60_000).toISOString() });
    const strict = resolveConfig({ processing: { allowedLatenessSeconds: 60 } }).processing;
    expect(decodeRecords(eventOf([e]).Records, strict)[0]).toMatchObject({ ok: false, reason: 'late' });
    expect(decodeRecords(eventOf([e]).Records, processing)[0]!.ok).toBe(true);
  });
  it('keeps each rejected record its own bytes, whatever is decoded after it', () => {
    // Arrange: rejections of every kind between accepted records (decoding reuses one buffer).
    const late = makeEvent({ ts: new Date(T0 - 48 * 3_600_000).toISOString() });
    const payloads: Buffer[] = [
      Buffer.from('{"v":1,'),
      Buffer.from(encodeEnvelope(makeEvent())),
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      Buffer.from(encodeEnvelope(late)),
      Buffer.from(JSON.stringify({ v: 2 })),
      Buffer.from(encodeEnvelope(makeEvent({ dims: { site: 'caf\u00e9 \ufffd' } }))),
    ];
    // Act
    const out = decodeRecords(
      payloads.map((data, i) => kinesisRecord({ data, sequenceNumber: seq(i + 1) })),
      processing,
    );
    // Assert
    expect(out.map((o) => (o.ok ? 'ok' : o.reason))).toEqual([
      'invalid_json',
      'ok',
      'invalid_utf8',
      'late',
      'unsupported_version',
      'ok',
    ]);
    out.forEach((o, i) => {
      if (!o.ok) expect(o.data).toEqual(payloads[i]);
    });
    const last = out[5];
    expect(last?.ok && last.event.dims.site).toBe('caf\u00e9 \ufffd');
    expect(last?.ok && last.position).toBe(last?.origin.position);
  });
});
