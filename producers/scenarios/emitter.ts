/**
 * Wraps a {@link Scenario} into a load generator stream of {@link Emission}s: mostly valid events, some
 * duplicates (same eventId re-sent) and some malformed records, at seeded rates.
 */
import { type EnvelopeInput, encodeEnvelope } from '../../common/envelope.ts';
import { ConfigError, describeValue } from '../../common/errors.ts';
import { checkInteger } from '../../common/validate.ts';
import { createRng } from './prng.ts';
import type { Emission, Scenario } from './types.ts';

export interface EmitterOptions {
  /** Seed of the injection choices (independent from the scenario's). @default 1 */
  readonly seed?: number;
  /** Probability an emission is a malformed record, 0–1. @default 0 */
  readonly invalidRate?: number;
  /** Probability an emission re-sends an already emitted event, 0–1. @default 0 */
  readonly duplicateRate?: number;
  /** How many recent events a duplicate is drawn from, 1–100,000. @default 1000 */
  readonly duplicateWindow?: number;
}

/** A seeded stream of emissions. */
export interface Emitter {
  readonly scenario: Scenario;
  emit(nowMs: number): Emission;
}

const encoder = new TextEncoder();

function rate(name: string, v: number | undefined): number {
  const x = v ?? 0;
  if (typeof x !== 'number' || !(x >= 0 && x <= 1)) {
    throw new ConfigError(`${name} must be a number between 0 and 1; received ${describeValue(x)}`);
  }
  return x;
}

export function createEmitter(scenario: Scenario, options: EmitterOptions = {}): Emitter {
  const invalidRate = rate('invalidRate', options.invalidRate);
  const duplicateRate = rate('duplicateRate', options.duplicateRate);
  if (invalidRate + duplicateRate > 1) {
    throw new ConfigError(
      `invalidRate + duplicateRate must be at most 1; received ${invalidRate + duplicateRate}`,
    );
  }
  const window = options.duplicateWindow ?? 1000;
  checkInteger('duplicateWindow', window, 1, 100_000);
  const rng = createRng((options.seed ?? 1) ^ 0x5eed);
  const recent: EnvelopeInput[] = [];

  const malformed = (nowMs: number): Emission => {
    const base = scenario.next(nowMs);
    const defect = rng.pick(['invalid_json', 'wrong_type', 'missing_field', 'unsupported_version'] as const);
    const pk = base.source;
    let text: string;
    switch (defect) {
      case 'invalid_json':
        text = encodeEnvelope(base).slice(0, -rng.int(1, 8));
        break;
      case 'wrong_type':
        text = JSON.stringify({ ...base, metrics: { ...base.metrics, temperature: 'warm' }, ts: nowMs });
        break;
      case 'missing_field': {
        const { eventId: _drop, ...rest } = base;
        text = JSON.stringify({ ...rest, ts: nowMs });
        break;
      }
      case 'unsupported_version':
        text = JSON.stringify({ ...base, v: 2, ts: nowMs });
        break;
    }
    return { kind: 'invalid', data: encoder.encode(text), partitionKey: pk, defect };
  };

  return {
    scenario,
    emit(nowMs: number): Emission {
      const roll = rng.next();
      if (roll < invalidRate) return malformed(nowMs);
      if (roll < invalidRate + duplicateRate && recent.length > 0) {
        return { kind: 'duplicate', event: recent[rng.int(0, recent.length - 1)] as EnvelopeInput };
      }
      const event = scenario.next(nowMs);
      recent.push(event);
      if (recent.length > window) recent.shift();
      return { kind: 'event', event };
    },
  };
}
