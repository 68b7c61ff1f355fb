import { ConfigError, describeValue } from '../../common/errors.ts';
import { createRng } from './prng.ts';
import type { Scenario } from './types.ts';

/**
 * Several scenarios at once, each chosen for an event with probability proportional to its weight
 * (seeded, so a run is reproducible): e.g. an IoT fleet and a website feeding one stream.
 */
export function mixedScenario(parts: readonly { scenario: Scenario; weight: number }[], seed = 1): Scenario {
  if (parts.length === 0) throw new ConfigError('a mixed scenario needs at least one part; received none');
  for (const p of parts) {
    if (!(p.weight > 0 && Number.isFinite(p.weight))) {
      throw new ConfigError(
        `scenario weights must be positive numbers; received ${describeValue(p.weight)} for ${p.scenario.name}`,
      );
    }
  }
  const total = parts.reduce((a, p) => a + p.weight, 0);
  const rng = createRng(seed ^ 0x5eed);
  return {
    name: parts.map((p) => p.scenario.name).join('+'),
    next(nowMs) {
      let r = rng.next() * total;
      for (const p of parts) {
        r -= p.weight;
        if (r < 0) return p.scenario.next(nowMs);
      }
      return parts[parts.length - 1]!.scenario.next(nowMs);
    },
  };
}
