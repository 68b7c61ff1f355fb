/**
 * The hand-written fast path never disagrees with the zod schema: whatever it accepts, the schema accepts
 * with the identical event. (What it declines, the schema judges.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvelopeSchema } from '../../common/envelope.ts';
import { fastValidate, fastValidateOwned } from '../../common/envelope-fast.ts';

const validish = fc.record({
  v: fc.constant(1),
  eventId: fc.uuid(),
  source: fc.string({ minLength: 1, maxLength: 130 }),
  type: fc.constantFrom('telemetry', 'click'),
  ts: fc.oneof(fc.integer({ min: 946684800000, max: 4102444800000 }), fc.constant('2026-11-22T01:00:00.5Z')),
  metrics: fc.dictionary(
    fc.constantFrom('t', 'h', '__x', 'a_b'),
    fc.double({ min: -2e15, max: 2e15, noNaN: true }),
  ),
  dims: fc.dictionary(fc.constantFrom('site', 'page', 'a-b'), fc.string({ maxLength: 130 })),
});

const nearValid = fc.oneof(
  validish,
  fc.record(
    {
      v: fc.oneof(fc.constant(1), fc.constant(2), fc.constant('1')),
      eventId: fc.oneof(fc.uuid(), fc.string({ maxLength: 70 })),
      source: fc.string({ maxLength: 130 }),
      type: fc.oneof(fc.constantFrom('telemetry', 'click'), fc.string({ maxLength: 70 })),
      ts: fc.oneof(
        fc
          .date({ min: new Date(1990, 0, 1), max: new Date(2110, 0, 1), noInvalidDate: true })
          .map((d) => d.toISOString()),
        fc.integer({ min: 0, max: 5e12 }),
        fc.double(),
        fc.string(),
        fc.constant('2026-11-22T01:00:00.123456789+00:00'),
      ),
      metrics: fc.oneof(
        fc.dictionary(
          fc.oneof(fc.constantFrom('t', '__proto__', 'a_b', '1x'), fc.string({ maxLength: 66 })),
          fc.oneof(fc.double(), fc.constant(1e15), fc.constant(-1e15 - 1)),
        ),
        fc.constant(null),
        fc.array(fc.nat()),
      ),
      dims: fc.oneof(
        fc.dictionary(fc.string({ maxLength: 66 }), fc.oneof(fc.string({ maxLength: 130 }), fc.nat())),
        fc.constant('x'),
      ),
      extra: fc.anything(),
    },
    { requiredKeys: [] },
  ),
);

describe('fast envelope validation', () => {
  it('accepts only what the schema accepts, with the same result', () => {
    let accepted = 0;
    fc.assert(
      fc.property(nearValid, (raw) => {
        const value = JSON.parse(JSON.stringify(raw)) as unknown;
        const fast = fastValidate(value);
        if (fast === undefined) return;
        accepted++;
        const slow = EnvelopeSchema.safeParse(value);
        expect(slow.success).toBe(true);
        expect(fast).toEqual(slow.data);
      }),
      { numRuns: 2000 },
    );
    // The generator must reach the accepting side often enough for the property to mean something.
    expect(accepted).toBeGreaterThan(20);
  });

  it('owned: becomes the same event in place when accepted, and is left untouched when declined', () => {
    fc.assert(
      fc.property(nearValid, (raw) => {
        const json = JSON.stringify(raw);
        const value = JSON.parse(json) as unknown;
        const owned = JSON.parse(json) as unknown;
        const fast = fastValidate(value);
        const result = fastValidateOwned(owned);
        if (fast === undefined) {
          expect(result).toBeUndefined();
          expect(owned).toEqual(JSON.parse(json));
        } else {
          expect(result).toBe(owned);
          expect(result).toEqual(fast);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('takes the common valid envelope', () => {
    const e = {
      v: 1,
      eventId: 'a',
      source: 's',
      type: 't',
      ts: '2026-11-22T01:00:00Z',
      metrics: { x: 1 },
      dims: { site: 'b' },
    };
    expect(fastValidate(e)).toEqual(EnvelopeSchema.parse(e));
  });
});
