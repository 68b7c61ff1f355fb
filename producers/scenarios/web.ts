/**
 * Web sessions following a funnel: landing pageview, browsing pageviews and clicks, sometimes a cart and
 * a purchase. `source` is the session id.
 */
import { monotonicFactory } from 'ulid';
import type { EnvelopeInput } from '../../common/envelope.ts';
import { ConfigError, describeValue } from '../../common/errors.ts';
import { checkInteger } from '../../common/validate.ts';
import { createRng } from './prng.ts';
import type { Scenario } from './types.ts';

export interface WebOptions {
  /** Deterministic seed, any integer. @default 1 */
  readonly seed?: number;
  /** Sessions active at once, 1–100,000. @default 50 */
  readonly sessions?: number;
}

export const PAGES = [
  '/',
  '/products',
  '/products/kettle',
  '/products/lamp',
  '/products/chair',
  '/cart',
  '/checkout',
] as const;
type Page = (typeof PAGES)[number];
const LANDING: readonly Page[] = ['/', '/', '/products', '/products/kettle', '/products/lamp'];
const PRICES: Record<string, number> = {
  '/products/kettle': 39.9,
  '/products/lamp': 59,
  '/products/chair': 149,
};

interface Session {
  readonly id: string;
  page: Page | null;
  cart: number;
  steps: number;
}

/** Creates the web scenario. */
export function webScenario(options: WebOptions = {}): Scenario {
  const seed = options.seed ?? 1;
  const n = options.sessions ?? 50;
  if (!Number.isInteger(seed))
    throw new ConfigError(`seed must be an integer; received ${describeValue(seed)}`);
  checkInteger('sessions', n, 1, 100_000);
  const rng = createRng(seed);
  const ulid = monotonicFactory(() => rng.next());
  let serial = 0;
  const newSession = (): Session => ({
    id: `sess-${(++serial).toString(36).padStart(4, '0')}-${rng.int(0, 0xffffff).toString(16).padStart(6, '0')}`,
    page: null,
    cart: 0,
    steps: 0,
  });
  const sessions = Array.from({ length: n }, newSession);

  return {
    name: 'web',
    next(nowMs: number): EnvelopeInput {
      const slot = rng.int(0, sessions.length - 1);
      let s = sessions[slot] as Session;
      if (s.page !== null && (s.steps > 12 || rng.chance(0.08))) {
        s = newSession();
        sessions[slot] = s;
      }
      s.steps++;
      const base = { v: 1 as const, eventId: ulid(nowMs), source: s.id, ts: new Date(nowMs).toISOString() };
      const visit = (page: Page): EnvelopeInput => {
        s.page = page;
        return { ...base, type: 'pageview', metrics: {}, dims: { page } };
      };
      if (s.page === null) return visit(rng.pick(LANDING));
      const page = s.page;
      if (page === '/checkout') {
        const amount = Math.round((s.cart > 0 ? s.cart : 19.9) * 100) / 100;
        s.cart = 0;
        s.page = '/';
        return { ...base, type: 'purchase', metrics: { amount }, dims: { page } };
      }
      if (rng.chance(0.35)) {
        const price = PRICES[page];
        const target =
          price !== undefined && rng.chance(0.5)
            ? 'add_to_cart'
            : rng.pick(['nav', 'image', 'review', 'banner']);
        if (target === 'add_to_cart' && price !== undefined) s.cart += price;
        return { ...base, type: 'click', metrics: {}, dims: { page, target } };
      }
      if (s.cart > 0 && rng.chance(page === '/cart' ? 0.6 : 0.25))
        return visit(page === '/cart' ? '/checkout' : '/cart');
      return visit(
        rng.pick(['/', '/products', '/products/kettle', '/products/lamp', '/products/chair'] as const),
      );
    },
  };
}
