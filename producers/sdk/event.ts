/**
 * `createEvent()`: builds a v1 envelope, generating `eventId` (a monotonic ULID) only when absent.
 */
import { monotonicFactory, type ULIDFactory } from 'ulid';
import type { EnvelopeInput } from '../../common/envelope.ts';

const defaultUlid = monotonicFactory();

/** Envelope fields a caller provides; `eventId` is optional and `v` is always 1. */
export type EventFields = Omit<EnvelopeInput, 'v' | 'eventId'> & { readonly eventId?: string };

/**
 * Builds an envelope. Assigns nothing but `v: 1` and, when absent, `eventId` (monotonic ULID from
 * `ulid`, or the given factory: pass a seeded one for determinism).
 *
 * @example
 * ```ts
 * createEvent({ source: 'device-0001', type: 'telemetry', ts: Date.now(), metrics: { temperature: 21.5 } });
 * ```
 */
export function createEvent(fields: EventFields, ulid: ULIDFactory = defaultUlid): EnvelopeInput {
  const ts = typeof fields.ts === 'number' ? fields.ts : Date.parse(fields.ts);
  const eventId = fields.eventId ?? ulid(Number.isFinite(ts) && ts >= 0 ? ts : undefined);
  return { v: 1, ...fields, eventId };
}
