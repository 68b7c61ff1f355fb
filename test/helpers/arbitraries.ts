/** fast-check arbitraries shared by the property tests. */
import fc from 'fast-check';
import type { EnvelopeInput } from '../../common/envelope.ts';

export interface ArbEnvelopeOptions {
  /** Event times are drawn from [fromMs, toMs] (epoch ms). */
  readonly fromMs: number;
  readonly toMs: number;
  /** Sources `device-1` … `device-<sources>`. @default 4 */
  readonly sources?: number;
  /** Event types. @default ['telemetry', 'click'] */
  readonly types?: readonly [string, ...string[]];
  /** Also a `page` dim (`/` or `/a`) beside `site`. @default false */
  readonly pages?: boolean;
}

/**
 * A valid envelope: a random id, one of a few sources, types and sites, a time in range, and any subset of a
 * real-valued `temperature` (−50…50) and an integer `humidity` (0…100).
 */
export function arbEnvelope(options: ArbEnvelopeOptions): fc.Arbitrary<EnvelopeInput> {
  const sources = Array.from({ length: options.sources ?? 4 }, (_, i) => `device-${i + 1}`);
  const site = fc.constantFrom('berlin', 'oslo');
  return fc.record({
    v: fc.constant(1 as const),
    eventId: fc.uuid(),
    source: fc.constantFrom(...sources),
    type: fc.constantFrom(...(options.types ?? ['telemetry', 'click'])),
    ts: fc.integer({ min: options.fromMs, max: options.toMs }),
    metrics: fc.record(
      {
        temperature: fc.double({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true }),
        humidity: fc.integer({ min: 0, max: 100 }),
      },
      { requiredKeys: [] },
    ),
    dims: options.pages ? fc.record({ site, page: fc.constantFrom('/', '/a') }) : fc.record({ site }),
  });
}
