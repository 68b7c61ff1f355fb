/**
 * Tumbling windows on the local event source mapping, against a real kinesalite: the event fields, state
 * passed from one invocation of a window to the next, the final invocation, a response without state
 * failing, early termination (over 1 MB, or asked for), and the state kept with the checkpoint.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { splitByWindow, windowOf } from '../../../../../infra/local/esm/windows.ts';
import { esmHarness, eventSource, recorder, waitUntil } from '../../../../helpers/esm.ts';

const harness = esmHarness();
const { createStream, put, startEsm } = harness;

type WindowEvent = KinesisStreamEvent & {
  window: { start: string; end: string };
  state: { n?: number; seen?: string[] };
  shardId: string;
  eventSourceARN: string;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
};

/** A handler counting records in its state, as a tumbling-window function does. */
function counting() {
  return recorder((event) => {
    const e = event as WindowEvent;
    const seen = [
      ...(e.state.seen ?? []),
      ...e.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString()),
    ];
    return { batchItemFailures: [], state: e.isFinalInvokeForWindow ? {} : { n: seen.length, seen } };
  });
}

describe('tumbling windows: pure parts', () => {
  it('a record belongs to the window of its arrival time, aligned to the epoch', () => {
    expect(windowOf(61_500, 60)).toEqual({ start: 60_000, end: 120_000 });
    expect(windowOf(59_999, 60)).toEqual({ start: 0, end: 60_000 });
  });
  it('a batch is split where its records change window', () => {
    const r = (arrivalMs: number) => ({
      sequenceNumber: String(arrivalMs),
      partitionKey: 'k',
      data: new Uint8Array(),
      arrivalMs,
    });
    expect(
      splitByWindow([r(1000), r(1500), r(2100), r(2200), r(3000)], 1).map((p) => p.map((x) => x.arrivalMs)),
    ).toEqual([[1000, 1500], [2100, 2200], [3000]]);
  });
});

describe('tumbling windows on the mapping', () => {
  it('passes the state from invocation to invocation and ends the window with a final invocation', async () => {
    const stream = await createStream();
    const rec = counting();
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ batchSize: 2, tumblingWindowInSeconds: 2 }),
    });
    for (const d of ['a', 'b', 'c', 'd', 'e']) await put(stream, d);
    await waitUntil(() => rec.calls.some((c) => (c.event as WindowEvent).isFinalInvokeForWindow), 15_000);
    await esm.drain({ timeoutMs: 10_000 });
    const events = rec.calls.map((c) => c.event as WindowEvent);
    for (const e of events) {
      expect(e.shardId).toBe('shardId-000000000000');
      expect(e.eventSourceARN).toContain(stream);
      expect(Date.parse(e.window.end) - Date.parse(e.window.start)).toBe(2000);
      // A batch holds the records of its window only.
      for (const r of e.Records) {
        const t = r.kinesis.approximateArrivalTimestamp * 1000;
        expect(t).toBeGreaterThanOrEqual(Date.parse(e.window.start));
        expect(t).toBeLessThan(Date.parse(e.window.end));
      }
    }
    // Within a window each invocation gets what the previous one returned; the final one has no records
    // and gets the window's whole state.
    const finals = events.filter((e) => e.isFinalInvokeForWindow);
    expect(finals.length).toBeGreaterThanOrEqual(1);
    for (const f of finals) expect(f.Records).toEqual([]);
    const seenAtFinals = finals.flatMap((f) => f.state.seen ?? []);
    expect(seenAtFinals.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(events.filter((e) => !e.isFinalInvokeForWindow).length).toBeGreaterThanOrEqual(3);
  });

  it('counts a response without state as a failed invocation and delivers the batch again', async () => {
    const stream = await createStream();
    const rec = recorder((event, n) =>
      n === 1 ? { batchItemFailures: [] } : { batchItemFailures: [], state: { ok: event.Records.length } },
    );
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ tumblingWindowInSeconds: 900 }),
    });
    await put(stream, 'x');
    await waitUntil(() => rec.calls.length >= 2, 10_000);
    expect(rec.calls[1]?.event.Records).toEqual(rec.calls[0]?.event.Records);
    expect((rec.calls[1]!.event as WindowEvent).state).toEqual({});
    expect(esm.stats()[0]?.partialFailures).toBe(1);
  });

  it('closeWindows() terminates the open window early; the state survives a restart with the checkpoint', async () => {
    const stream = await createStream();
    const stateDir = mkdtempSync(join(tmpdir(), 'esm-windows-'));
    const first = counting();
    const esm1 = await startEsm(stream, first.handler, {
      eventSource: eventSource({ tumblingWindowInSeconds: 900 }),
      stateDir,
    });
    await put(stream, 'a');
    await esm1.drain({ timeoutMs: 10_000 });
    await esm1.stop();
    // Restarted on the same state dir: the window's state is still there.
    const second = counting();
    const esm2 = await startEsm(stream, second.handler, {
      eventSource: eventSource({ tumblingWindowInSeconds: 900 }),
      stateDir,
    });
    await put(stream, 'b');
    await esm2.drain({ timeoutMs: 10_000, closeWindows: true });
    const events = second.calls.map((c) => c.event as WindowEvent);
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({ isFinalInvokeForWindow: true, isWindowTerminatedEarly: true, Records: [] });
    expect(last.state.seen).toEqual(['a', 'b']);
    expect(esm2.stats()[0]?.windowsClosed).toBe(1);
  });

  it('terminates a window early when the state grows over 1 MB, and goes on with a fresh state', async () => {
    const stream = await createStream();
    const big = 'x'.repeat(1024 * 1024);
    const rec = recorder((event) => {
      const e = event as WindowEvent;
      if (e.isFinalInvokeForWindow) return { batchItemFailures: [], state: {} };
      return { batchItemFailures: [], state: { big, n: (e.state.n ?? 0) + e.Records.length } };
    });
    const esm = await startEsm(stream, rec.handler, {
      eventSource: eventSource({ tumblingWindowInSeconds: 900 }),
    });
    await put(stream, 'a');
    await esm.drain({ timeoutMs: 10_000 });
    await put(stream, 'b');
    await esm.drain({ timeoutMs: 10_000 });
    const events = rec.calls.map((c) => c.event as WindowEvent);
    expect(
      events.map((e) => [e.Records.length, e.isFinalInvokeForWindow, e.isWindowTerminatedEarly]),
    ).toEqual([
      [1, false, false],
      [0, true, true],
      [1, false, false],
      [0, true, true],
    ]);
    // After the early end the same window goes on, with a fresh state.
    expect(events[2]?.state).toEqual({});
    expect(events[2]?.window).toEqual(events[0]?.window);
  });
});
