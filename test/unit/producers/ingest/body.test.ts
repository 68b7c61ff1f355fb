import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../../../../common/envelope.ts';
import { INGEST_LIMITS, parseIngestBody } from '../../../../producers/ingest/index.ts';

const ok = (i: number) => ({ v: 1, eventId: `e${i}`, source: `s${i}`, type: 'click', ts: 1767225600000 + i });
const decoder = new TextDecoder();

describe('parseIngestBody', () => {
  it('returns each record as its JSON text keyed by source, in order', () => {
    const out = parseIngestBody(JSON.stringify({ records: [ok(1), ok(2)] }));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.records.map((r) => [r.index, r.partitionKey, JSON.parse(decoder.decode(r.data))])).toEqual([
      [0, 's1', ok(1)],
      [1, 's2', ok(2)],
    ]);
  });

  it.each([
    ['[1,2]', 'body: must be a JSON object {"records":[...]}; received an array of 2'],
    ['{"records":[],"x":1}', 'body: may only have the key "records"; received "x"'],
    ['{"records":{}}', 'records: must be an array of envelopes; received an object'],
    ['{"records":[]}', 'records: must hold between 1 and 500 records; received 0'],
    ['{"records":[42]}', 'records[0]: must be an envelope object; received 42'],
  ])('rejects %s with a message naming the problem', (body, error) => {
    const out = parseIngestBody(body);
    expect(out).toMatchObject({ ok: false, status: 400, error });
  });

  it('names missing fields once, and unknown keys', () => {
    const out = parseIngestBody(
      JSON.stringify({ records: [ok(0), { ...ok(1), source: undefined, extra: 1 }] }),
    );
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.problems).toEqual([
      { index: 1, path: 'records[1].source', message: 'Invalid input: expected string, received undefined' },
      { index: 1, path: 'records[1]', message: 'Unrecognized key: "extra"' },
    ]);
  });

  it('rejects invalid UTF-8 and bodies over the size limit', () => {
    expect(parseIngestBody(new Uint8Array([0x7b, 0xff, 0x7d]))).toMatchObject({
      status: 400,
      error: 'body: must be UTF-8 text',
    });
    expect(parseIngestBody(new Uint8Array(INGEST_LIMITS.maxBodyBytes + 1))).toMatchObject({ status: 413 });
  });

  it('lists at most maxProblems problems and counts the rest', () => {
    const records = Array.from({ length: 30 }, (_, i) => ({ ...ok(i), type: 'bad type' }));
    const out = parseIngestBody(JSON.stringify({ records }));
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.problems).toHaveLength(INGEST_LIMITS.maxProblems);
    expect(out.error).toMatch(/and 27 more problem\(s\)$/);
  });

  it('accepts a batch exactly when validateEnvelope accepts every record (property)', () => {
    const field = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 3 }),
      fc.integer(),
      fc.constant('ok'),
    );
    const record = fc.record({
      v: fc.constantFrom(1, 1, 1, 2),
      eventId: fc.oneof(fc.constant('id-1'), field),
      source: fc.oneof(fc.constant('src'), field),
      type: fc.oneof(fc.constant('click'), field),
      ts: fc.oneof(fc.constant('2026-01-01T00:00:00Z'), fc.integer({ min: 0, max: 5e12 }), field),
    });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 5 }), (records) => {
        const json = JSON.parse(JSON.stringify({ records })) as { records: unknown[] };
        const expected = json.records.every((r) => validateEnvelope(r).ok);
        const out = parseIngestBody(JSON.stringify(json));
        expect(out.ok).toBe(expected);
        if (!out.ok) {
          const bad = json.records.flatMap((r, i) => (validateEnvelope(r).ok ? [] : [i]));
          expect([...new Set(out.problems.map((p) => p.index))].sort()).toEqual(bad);
        }
      }),
      { seed: 20261122, numRuns: 300 },
    );
  });
});
