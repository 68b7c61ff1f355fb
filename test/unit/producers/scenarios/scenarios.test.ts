import { describe, expect, it } from 'vitest';
import { validateEnvelope } from '../../../../common/envelope.ts';
import { ConfigError } from '../../../../common/errors.ts';
import { createEmitter, createRng, iotScenario, webScenario } from '../../../../producers/scenarios/index.ts';

const T0 = Date.UTC(2026, 5, 1, 0, 0, 0);
const run = (s: { next(n: number): unknown }, n: number) =>
  Array.from({ length: n }, (_, i) => s.next(T0 + i * 100));

describe('createRng', () => {
  it('is deterministic per seed and uniform-ish in [0, 1)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 10_000 }, () => b.next()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(createRng(43).next()).not.toBe(createRng(42).next());
  });
});

describe('iotScenario', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(run(iotScenario({ seed: 7 }), 200)).toEqual(run(iotScenario({ seed: 7 }), 200));
    expect(run(iotScenario({ seed: 8 }), 200)).not.toEqual(run(iotScenario({ seed: 7 }), 200));
  });

  it('emits valid telemetry from device-0001.. with site, model and unique ids', () => {
    const events = run(iotScenario({ seed: 1, devices: 12 }), 500).map((e) => validateEnvelope(e));
    const ok = events.flatMap((r) => (r.ok ? [r.event] : []));
    expect(ok).toHaveLength(500);
    expect(new Set(ok.map((e) => e.eventId)).size).toBe(500);
    for (const e of ok) {
      expect(e.source).toMatch(/^device-00(0[1-9]|1[0-2])$/);
      expect(e.type).toBe('telemetry');
      expect(Object.keys(e.dims).sort()).toEqual(['model', 'site']);
      expect(e.metrics.temperature).toBeGreaterThan(-20);
      expect(e.metrics.temperature).toBeLessThan(45);
      expect(e.metrics.humidity).toBeGreaterThanOrEqual(0);
      expect(e.metrics.battery).toBeLessThanOrEqual(100);
    }
    expect(new Set(ok.map((e) => e.dims.site)).size).toBeGreaterThan(4);
  });

  it('follows a daily cycle, drains batteries and emits late events when asked', () => {
    const s = iotScenario({ seed: 3, devices: 1, sites: ['berlin'], lateRate: 1, lateByMs: 600_000 });
    const noon = Date.UTC(2026, 5, 1, 13); // 14:00 in Berlin's offset
    const night = Date.UTC(2026, 5, 1, 2);
    const temp = (t: number) => Number(s.next(t).metrics?.temperature);
    const warm = Array.from({ length: 20 }, () => temp(noon)).reduce((a, b) => a + b) / 20;
    const cold = Array.from({ length: 20 }, () => temp(night + 86_400_000)).reduce((a, b) => a + b) / 20;
    expect(warm - cold).toBeGreaterThan(5);
    const late = s.next(T0 + 5 * 86_400_000);
    expect(Date.parse(String(late.ts))).toBe(T0 + 5 * 86_400_000 - 600_000);
    const b1 = Number(iotScenario({ seed: 3, devices: 1 }).next(T0).metrics?.battery);
    const s2 = iotScenario({ seed: 3, devices: 1 });
    s2.next(T0);
    expect(Number(s2.next(T0 + 48 * 3_600_000).metrics?.battery)).toBeLessThan(b1);
  });

  it('rejects bad options showing the value', () => {
    expect(() => iotScenario({ devices: 0 })).toThrow(
      /devices must be an integer between 1 and 100000; received 0/,
    );
    expect(() => iotScenario({ lateRate: 2 })).toThrow(ConfigError);
  });
});

describe('webScenario', () => {
  it('is deterministic and follows the funnel', () => {
    const a = run(webScenario({ seed: 5, sessions: 20 }), 3000);
    expect(a).toEqual(run(webScenario({ seed: 5, sessions: 20 }), 3000));
    const events = a.map((e) => validateEnvelope(e)).flatMap((r) => (r.ok ? [r.event] : []));
    expect(events).toHaveLength(3000);
    const types = new Set(events.map((e) => e.type));
    expect(types).toEqual(new Set(['pageview', 'click', 'purchase']));
    for (const e of events) {
      expect(e.source).toMatch(/^sess-/);
      expect(typeof e.dims.page).toBe('string');
      if (e.type === 'purchase') expect(e.metrics.amount).toBeGreaterThan(0);
    }
    // A session's first event is a pageview.
    const first = new Map<string, string>();
    for (const e of events) if (!first.has(e.source)) first.set(e.source, e.type);
    expect(new Set(first.values())).toEqual(new Set(['pageview']));
  });
});

describe('createEmitter', () => {
  it('injects malformed records and duplicates at about the configured rates, deterministically', () => {
    const make = () =>
      createEmitter(iotScenario({ seed: 9 }), { seed: 9, invalidRate: 0.1, duplicateRate: 0.05 });
    const a = make();
    const b = make();
    const out = Array.from({ length: 4000 }, (_, i) => a.emit(T0 + i));
    expect(out).toEqual(Array.from({ length: 4000 }, (_, i) => b.emit(T0 + i)));
    const invalid = out.filter((e) => e.kind === 'invalid');
    const dups = out.filter((e) => e.kind === 'duplicate');
    expect(invalid.length / 4000).toBeGreaterThan(0.07);
    expect(invalid.length / 4000).toBeLessThan(0.13);
    expect(dups.length / 4000).toBeGreaterThan(0.03);
    expect(dups.length / 4000).toBeLessThan(0.07);
    const decoder = new TextDecoder();
    for (const e of invalid) {
      if (e.kind !== 'invalid') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(decoder.decode(e.data));
      } catch {
        expect(e.defect).toBe('invalid_json');
        continue;
      }
      expect(validateEnvelope(parsed).ok).toBe(false);
    }
    expect(new Set(invalid.map((e) => (e.kind === 'invalid' ? e.defect : '')))).toEqual(
      new Set(['invalid_json', 'wrong_type', 'missing_field', 'unsupported_version']),
    );
    const ids = new Set(out.flatMap((e) => (e.kind === 'event' ? [e.event.eventId] : [])));
    for (const d of dups) if (d.kind === 'duplicate') expect(ids.has(d.event.eventId)).toBe(true);
  });

  it('rejects rates outside 0..1', () => {
    expect(() => createEmitter(iotScenario(), { invalidRate: -0.1 })).toThrow(
      /invalidRate must be a number between 0 and 1; received -0.1/,
    );
  });
});
