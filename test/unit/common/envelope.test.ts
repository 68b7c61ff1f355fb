import { describe, expect, it } from 'vitest';
import { ARCHIVE_COLUMNS, encodeEnvelope, LIMITS, validateEnvelope } from '../../../common/envelope.ts';
import { makeEvent, T0 } from '../../helpers/factories.ts';

describe('envelope v1', () => {
  it('normalizes ISO and epoch-ms timestamps to epoch ms', () => {
    const iso = validateEnvelope(makeEvent({ ts: '2026-11-22T01:00:00.000Z' }));
    const ms = validateEnvelope(makeEvent({ ts: T0 }));
    expect(iso.ok && iso.event.ts).toBe(T0);
    expect(ms.ok && ms.event.ts).toBe(T0);
  });

  it('defaults metrics and dims to empty objects', () => {
    const { metrics: _m, dims: _d, ...rest } = makeEvent();
    const r = validateEnvelope(rest);
    expect(r.ok && [r.event.metrics, r.event.dims]).toEqual([{}, {}]);
  });

  it.each([
    [{ v: 2 }, 'unsupported_version', 'v: expected 1; got 2'],
    [{ v: undefined }, 'schema_violation', 'v: required'],
    [{ eventId: '' }, 'schema_violation', 'eventId'],
    [{ eventId: 'has space' }, 'schema_violation', 'eventId'],
    [{ ts: '2026-11-22 01:00:00' }, 'schema_violation', 'ts'],
    [{ ts: '2026-11-22T01:00:00+02:00' }, 'schema_violation', 'ts'],
    [{ ts: 1.5 }, 'schema_violation', 'ts'],
    [{ ts: Date.UTC(1999, 0, 1) }, 'schema_violation', '2000-01-01'],
    [{ metrics: { t: 'hot' } }, 'schema_violation', 'metrics.t'],
    [{ metrics: { t: 1e16 } }, 'schema_violation', 'metrics.t'],
    [{ metrics: { 'bad name': 1 } }, 'schema_violation', 'metrics'],
    [{ dims: { site: 7 } }, 'schema_violation', 'dims.site'],
    [{ dims: { site: 'x'.repeat(LIMITS.maxDimValueLength + 1) } }, 'schema_violation', 'dims.site'],
    [{ extra: true }, 'schema_violation', 'extra'],
  ])('rejects %j as %s', (patch, reason, detail) => {
    const r = validateEnvelope({ ...makeEvent(), ...patch });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.detail).toContain(detail);
    }
  });

  it('rejects non-objects', () => {
    for (const v of [null, 1, 'x', [], true]) expect(validateEnvelope(v).ok).toBe(false);
  });

  it('round-trips through encodeEnvelope', () => {
    const e = validateEnvelope(makeEvent({ ts: T0 + 123 }));
    if (!e.ok) throw new Error(e.detail);
    const again = validateEnvelope(JSON.parse(encodeEnvelope(e.event)));
    expect(again).toEqual(e);
  });

  it('derives one archive column per envelope field', () => {
    expect(ARCHIVE_COLUMNS.map((c) => `${c.name}:${c.glueType}`)).toEqual([
      'v:int',
      'eventid:string',
      'source:string',
      'type:string',
      'ts:timestamp',
      'metrics:map<string,double>',
      'dims:map<string,string>',
    ]);
  });
});
