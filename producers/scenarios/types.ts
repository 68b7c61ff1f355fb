import type { EnvelopeInput } from '../../common/envelope.ts';

/** A generator of valid events, deterministic for its seed and the sequence of `nowMs` it is given. */
export interface Scenario {
  readonly name: string;
  /** The next event, as of `nowMs` (epoch ms); its `ts` may lie behind `nowMs` (late events). */
  next(nowMs: number): EnvelopeInput;
}

/** What a load generator puts on the stream, tagged with why. */
export type Emission =
  | { readonly kind: 'event'; readonly event: EnvelopeInput }
  /** The same event (same `eventId`) emitted before: at-least-once producers do this. */
  | { readonly kind: 'duplicate'; readonly event: EnvelopeInput }
  /** Bytes that are not a valid envelope, with the defect injected. */
  | {
      readonly kind: 'invalid';
      readonly data: Uint8Array;
      readonly partitionKey: string;
      readonly defect: 'invalid_json' | 'wrong_type' | 'missing_field' | 'unsupported_version';
    };
