import { describe, expect, it } from 'vitest';
import { parseIsoUtc } from '../../../common/envelope-fast.ts';

describe('parseIsoUtc', () => {
  it('equals Date.parse across minute, hour, day, month and year boundaries, in any order', () => {
    const base = Date.UTC(2025, 11, 31, 23, 58, 0);
    const times: number[] = [];
    for (let i = 0; i < 400; i++) times.push(base + i * 997);
    // Revisit earlier minutes after later ones, so a stale cached minute would show.
    for (let i = 0; i < 400; i++) times.push(base + ((i * 7919) % 400) * 997);
    times.push(
      Date.UTC(2024, 1, 29, 12, 0, 59, 999),
      Date.UTC(1970, 0, 1),
      Date.UTC(2024, 1, 29, 12, 1, 0, 1),
    );
    for (const ms of times) {
      const iso = new Date(ms).toISOString();
      expect(parseIsoUtc(iso)).toBe(Date.parse(iso));
      const plus = iso.replace('Z', '+00:00');
      expect(parseIsoUtc(plus)).toBe(Date.parse(plus));
      const micros = iso.replace('Z', '123Z');
      expect(parseIsoUtc(micros)).toBe(ms);
    }
  });
});
