/**
 * The event source mapping's failure policy, driven directly with a fake clock and no emulator. Expected
 * decisions come from Lambda's documented rules for Kinesis sources: success checkpoints the batch; a
 * partial failure checkpoints the records before the lowest failed one and retries from there, unsplit;
 * otherwise record age first, then bisect (BisectBatchOnFunctionError, two or more records), then the retry
 * limit, then a retry after a backoff doubling from `retryBackoffMs` up to 30 s.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decide,
  type FailureSettings,
  type InvokeOutcome,
  type Piece,
} from '../../../../../infra/local/esm/policy.ts';
import type { PolledRecord } from '../../../../../infra/local/private/event.ts';

const T0 = 1_700_000_000_000;

/** A record that arrived `ageMs` before T0. */
function record(i: number, ageMs = 0): PolledRecord {
  return {
    sequenceNumber: String(1000 + i),
    partitionKey: `k${i}`,
    data: new Uint8Array([i]),
    arrivalMs: T0 - ageMs,
  };
}

function piece(n: number, retries = 0, ageMs = 0): Piece {
  return { records: Array.from({ length: n }, (_, i) => record(i, ageMs)), retries };
}

const settings: FailureSettings = {
  maximumRecordAgeInSeconds: -1,
  bisectBatchOnFunctionError: false,
  maximumRetryAttempts: -1,
  retryBackoffMs: 500,
};

const error: InvokeOutcome = { kind: 'error', message: 'boom', timeout: false };

/** A clock standing at `ms`, counting how often it is read. */
function fakeClock(ms: number) {
  const clock = Object.assign(
    () => {
      clock.reads++;
      return ms;
    },
    { reads: 0 },
  );
  return clock;
}

const seqs = (records: readonly PolledRecord[]) => records.map((r) => r.sequenceNumber);

describe('decide (event source mapping failure policy)', () => {
  it('checkpoints a successful batch without reading the clock', () => {
    const clock = fakeClock(T0);
    expect(decide({ kind: 'success' }, piece(3), settings, clock)).toEqual({ kind: 'checkpoint' });
    expect(clock.reads).toBe(0);
  });

  it('on a partial failure checkpoints the records before the failed one and retries the rest, unsplit', () => {
    const p = piece(5, 2);
    const d = decide(
      { kind: 'partial', index: 2 },
      p,
      { ...settings, bisectBatchOnFunctionError: true },
      fakeClock(T0),
    );
    expect(d.kind).toBe('retry');
    if (d.kind !== 'retry') return;
    expect(seqs(d.succeeded)).toEqual(['1000', '1001']);
    expect(seqs(d.piece.records)).toEqual(['1002', '1003', '1004']);
    expect(d.piece.retries).toBe(3);
    expect(d.delayMs).toBe(500 * 4);
  });

  it('a partial failure at the first record checkpoints nothing', () => {
    const d = decide({ kind: 'partial', index: 0 }, piece(3), settings, fakeClock(T0));
    expect(d.kind === 'retry' && d.succeeded).toEqual([]);
  });

  it('retries a whole-batch failure with a backoff doubling per retry, capped at 30 s', () => {
    const delays = [0, 1, 2, 3, 5, 6, 7, 20].map((retries) => {
      const d = decide(error, piece(1, retries), settings, fakeClock(T0));
      return d.kind === 'retry' ? d.delayMs : -1;
    });
    expect(delays).toEqual([500, 1000, 2000, 4000, 16_000, 30_000, 30_000, 30_000]);
    const zero = decide(error, piece(1, 4), { ...settings, retryBackoffMs: 0 }, fakeClock(T0));
    expect(zero.kind === 'retry' && zero.delayMs).toBe(0);
  });

  it('bisects a failed batch of two or more records into halves keeping the retry count (first half larger)', () => {
    const on = { ...settings, bisectBatchOnFunctionError: true };
    for (const outcome of [error, { kind: 'invalid', reason: 'bad' } as const]) {
      const d = decide(outcome, piece(5, 1), on, fakeClock(T0));
      expect(d.kind).toBe('bisect');
      if (d.kind !== 'bisect') continue;
      expect(d.pieces.map((x) => seqs(x.records))).toEqual([
        ['1000', '1001', '1002'],
        ['1003', '1004'],
      ]);
      expect(d.pieces.map((x) => x.retries)).toEqual([1, 1]);
    }
    // One record cannot be split: it is retried.
    expect(decide(error, piece(1), on, fakeClock(T0)).kind).toBe('retry');
  });

  it('discards after MaximumRetryAttempts retries, marking function errors', () => {
    const limited = { ...settings, maximumRetryAttempts: 2 };
    expect(decide(error, piece(2, 1), limited, fakeClock(T0)).kind).toBe('retry');
    expect(decide(error, piece(2, 2), limited, fakeClock(T0))).toMatchObject({
      kind: 'discard',
      condition: 'RetryAttemptsExhausted',
      functionError: true,
      succeeded: [],
    });
    expect(decide({ kind: 'invalid', reason: 'x' }, piece(2, 2), limited, fakeClock(T0))).toMatchObject({
      kind: 'discard',
      functionError: false,
    });
    // Zero retries: the first failure discards.
    expect(decide(error, piece(1, 0), { ...settings, maximumRetryAttempts: 0 }, fakeClock(T0)).kind).toBe(
      'discard',
    );
  });

  it('discards a failed batch whose oldest record is older than MaximumRecordAgeInSeconds, before bisecting', () => {
    const aged = { ...settings, maximumRecordAgeInSeconds: 60, bisectBatchOnFunctionError: true };
    const p = piece(4, 0);
    // Exactly 60 s old is not older than the limit: bisected.
    expect(decide(error, p, aged, fakeClock(T0 + 60_000)).kind).toBe('bisect');
    expect(decide(error, p, aged, fakeClock(T0 + 60_001))).toMatchObject({
      kind: 'discard',
      condition: 'RecordAgeExceeded',
      piece: p,
    });
  });

  it('judges the age of a partial failure by its first failed record, keeping the succeeded prefix', () => {
    const records = [record(0, 120_000), record(1, 120_000), record(2, 1_000)];
    const d = decide(
      { kind: 'partial', index: 2 },
      { records, retries: 0 },
      { ...settings, maximumRecordAgeInSeconds: 60 },
      fakeClock(T0),
    );
    expect(d.kind).toBe('retry');
    const old = decide(
      { kind: 'partial', index: 1 },
      { records, retries: 0 },
      { ...settings, maximumRecordAgeInSeconds: 60 },
      fakeClock(T0),
    );
    expect(old).toMatchObject({ kind: 'discard', condition: 'RecordAgeExceeded', functionError: false });
    expect(old.kind === 'discard' && seqs(old.succeeded)).toEqual(['1000']);
  });

  it('never loses or reorders a record: succeeded + retried/discarded/bisected pieces are the batch', () => {
    const arbOutcome = fc.oneof(
      fc.constant<InvokeOutcome>({ kind: 'success' }),
      fc.constant<InvokeOutcome>({ kind: 'invalid', reason: 'x' }),
      fc.boolean().map<InvokeOutcome>((timeout) => ({ kind: 'error', message: 'e', timeout })),
      fc.nat().map<InvokeOutcome>((index) => ({ kind: 'partial', index })),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.nat({ max: 20 }),
        arbOutcome,
        fc.record({
          maximumRecordAgeInSeconds: fc.integer({ min: -1, max: 600 }),
          bisectBatchOnFunctionError: fc.boolean(),
          maximumRetryAttempts: fc.integer({ min: -1, max: 10 }),
          retryBackoffMs: fc.integer({ min: 0, max: 30_000 }),
        }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (n, retries, rawOutcome, s, elapsed) => {
          const outcome: InvokeOutcome =
            rawOutcome.kind === 'partial' ? { kind: 'partial', index: rawOutcome.index % n } : rawOutcome;
          const p = piece(n, retries);
          const d = decide(outcome, p, s, fakeClock(T0 + elapsed));
          const all = seqs(p.records);
          switch (d.kind) {
            case 'checkpoint':
              expect(outcome.kind).toBe('success');
              break;
            case 'bisect':
              expect(outcome.kind === 'error' || outcome.kind === 'invalid').toBe(true);
              expect(d.pieces.flatMap((x) => seqs(x.records))).toEqual(all);
              expect(d.pieces.every((x) => x.records.length > 0 && x.retries === retries)).toBe(true);
              break;
            case 'retry':
              expect([...seqs(d.succeeded), ...seqs(d.piece.records)]).toEqual(all);
              expect(d.piece.retries).toBe(retries + 1);
              expect(d.delayMs).toBeLessThanOrEqual(30_000);
              if (s.maximumRetryAttempts !== -1) expect(retries).toBeLessThan(s.maximumRetryAttempts);
              break;
            case 'discard':
              expect([...seqs(d.succeeded), ...seqs(d.piece.records)]).toEqual(all);
              expect(d.functionError).toBe(outcome.kind === 'error');
              break;
          }
        },
      ),
    );
  });
});
