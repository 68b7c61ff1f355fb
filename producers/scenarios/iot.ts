/**
 * An IoT fleet: devices at sites with daily temperature cycles, humidity, slowly draining batteries,
 * optional failing sensors and late events.
 */
import { monotonicFactory } from 'ulid';
import type { EnvelopeInput } from '../../common/envelope.ts';
import { ConfigError, describeValue } from '../../common/errors.ts';
import { createRng, type Rng } from './prng.ts';
import type { Scenario } from './types.ts';

/** Sites: mean temperature (°C), daily amplitude, mean humidity (%), UTC offset (hours). */
export const SITES = {
  berlin: { temp: 11, amp: 5, humidity: 70, utc: 1 },
  lisbon: { temp: 18, amp: 5, humidity: 65, utc: 0 },
  oslo: { temp: 6, amp: 4, humidity: 75, utc: 1 },
  austin: { temp: 21, amp: 7, humidity: 60, utc: -6 },
  tokyo: { temp: 16, amp: 5, humidity: 62, utc: 9 },
  sydney: { temp: 18, amp: 5, humidity: 68, utc: 10 },
  nairobi: { temp: 19, amp: 6, humidity: 58, utc: 3 },
  montreal: { temp: 7, amp: 6, humidity: 70, utc: -5 },
} as const;
export type Site = keyof typeof SITES;
export const MODELS = ['x1', 'x2', 's3', 'pro4'] as const;

export interface IotOptions {
  /** Deterministic seed, any integer. @default 1 */
  readonly seed?: number;
  /** Devices in the fleet, 1–100,000 (`device-0001`…). @default 100 */
  readonly devices?: number;
  /** Sites devices are spread over (round-robin). @default all of {@link SITES} */
  readonly sites?: readonly Site[];
  /** Fraction of devices with a failing sensor (stuck or spiking temperature, missing humidity), 0–1. @default 0 */
  readonly failingRate?: number;
  /** Probability that an event is late, 0–1. @default 0 */
  readonly lateRate?: number;
  /** How far behind `nowMs` a late event's `ts` lies, 0–7 days in ms. @default 120000 */
  readonly lateByMs?: number;
  /**
   * Fraction of devices that are offline, 0–1: they only upload a backlog of readings taken 15–45 minutes
   * before the run started (as devices with intermittent connectivity do), then fall silent. @default 0
   */
  readonly offlineRate?: number;
}

interface Device {
  readonly id: string;
  readonly site: Site;
  readonly model: (typeof MODELS)[number];
  readonly battery0: number;
  /** Percent per hour. */
  readonly drain: number;
  readonly offset: number;
  readonly failing: 'stuck' | 'spike' | 'no_humidity' | null;
  /** Offline devices: how long before the run their backlog ends, in ms; null for online devices. */
  readonly offlineSinceMs: number | null;
}

function check(path: string, value: number, min: number, max: number, integer: boolean): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new ConfigError(
      `${path} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}; received ${describeValue(value)}`,
    );
  }
  return value;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Creates the IoT scenario. */
export function iotScenario(options: IotOptions = {}): Scenario {
  const seed = check('seed', options.seed ?? 1, -(2 ** 31), 2 ** 32 - 1, true);
  const count = check('devices', options.devices ?? 100, 1, 100_000, true);
  const failingRate = check('failingRate', options.failingRate ?? 0, 0, 1, false);
  const lateRate = check('lateRate', options.lateRate ?? 0, 0, 1, false);
  const lateByMs = check('lateByMs', options.lateByMs ?? 120_000, 0, 7 * 86_400_000, true);
  const offlineRate = check('offlineRate', options.offlineRate ?? 0, 0, 1, false);
  const sites = options.sites ?? (Object.keys(SITES) as Site[]);
  if (sites.length === 0 || sites.some((s) => !(s in SITES))) {
    throw new ConfigError(
      `sites must be a non-empty list of ${Object.keys(SITES).join(', ')}; received ${sites.join(',')}`,
    );
  }
  const rng: Rng = createRng(seed);
  const ulid = monotonicFactory(() => rng.next());
  const devices: Device[] = Array.from({ length: count }, (_, i) => ({
    id: `device-${String(i + 1).padStart(4, '0')}`,
    site: sites[i % sites.length] as Site,
    model: rng.pick(MODELS),
    battery0: 60 + rng.next() * 40,
    drain: 0.05 + rng.next() * 0.2,
    offset: rng.normal() * 0.8,
    failing: rng.chance(failingRate) ? rng.pick(['stuck', 'spike', 'no_humidity'] as const) : null,
    offlineSinceMs: rng.chance(offlineRate) ? 15 * 60_000 + Math.floor(rng.next() * 30 * 60_000) : null,
  }));
  let startMs: number | undefined;

  return {
    name: 'iot',
    next(nowMs: number): EnvelopeInput {
      startMs ??= nowMs;
      const d = rng.pick(devices);
      const site = SITES[d.site];
      const backlog =
        d.offlineSinceMs === null ? 0 : startMs - d.offlineSinceMs - Math.floor(rng.next() * 10 * 60_000);
      const ts = d.offlineSinceMs !== null ? backlog : rng.chance(lateRate) ? nowMs - lateByMs : nowMs;
      const localHour = (((ts / 3_600_000 + site.utc) % 24) + 24) % 24;
      // Warmest mid-afternoon (15:00 local), coldest before dawn.
      const cycle = Math.sin((2 * Math.PI * (localHour - 9)) / 24);
      let temperature = site.temp + d.offset + site.amp * cycle + rng.normal() * 0.3;
      if (d.failing === 'stuck') temperature = -40;
      if (d.failing === 'spike' && rng.chance(0.2)) temperature = 85 + rng.next() * 40;
      const humidity = Math.min(100, Math.max(0, site.humidity - 8 * cycle + rng.normal() * 2));
      const hours = Math.max(0, (nowMs - startMs) / 3_600_000);
      const battery = Math.max(0, d.battery0 - d.drain * hours);
      const metrics: Record<string, number> = {
        temperature: round(temperature, 2),
        battery: round(battery, 2),
      };
      if (d.failing !== 'no_humidity') metrics.humidity = round(humidity, 1);
      return {
        v: 1,
        eventId: ulid(ts),
        source: d.id,
        type: 'telemetry',
        ts: new Date(ts).toISOString(),
        metrics,
        dims: { site: d.site, model: d.model },
      };
    },
  };
}
