/**
 * Lambda tumbling windows on a Kinesis event source mapping (`TumblingWindowInSeconds`, 0–900), as the
 * Lambda Developer Guide describes them ("Implementing stateful Kinesis Data Streams processing in Lambda"):
 * - every record belongs to the window of its arrival time, `[floor(t / T) * T, + T)`; a batch holds the
 *   records of one window only;
 * - each invocation gets the `state` the previous invocation of the window returned (`{}` at the first)
 *   plus `window { start, end }`, `shardId`, `eventSourceARN`, `isFinalInvokeForWindow` and
 *   `isWindowTerminatedEarly`; a response without `state` is a failed invocation;
 * - when the window ends (a record of a later window arrives, or its end time passes) the function is
 *   invoked once more with `isFinalInvokeForWindow: true` and no records; if that invocation fails,
 *   processing of the shard waits until it succeeds; then the state is deleted;
 * - a state larger than 1 MB terminates the window early (`isWindowTerminatedEarly: true`): the function
 *   gets that final invocation, and the window goes on with a fresh state.
 * Pure helpers; the shard poller applies them.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import type { PolledRecord } from '../private/event.ts';
import type { OpenWindow } from '../private/state.ts';

/** Lambda's limit on a shard's tumbling-window state. */
export const MAX_WINDOW_STATE_BYTES = 1024 * 1024;

/** The window `[start, end)` that a record arriving at `arrivalMs` belongs to. */
export function windowOf(arrivalMs: number, seconds: number): { start: number; end: number } {
  const ms = seconds * 1000;
  const start = Math.floor(arrivalMs / ms) * ms;
  return { start, end: start + ms };
}

/** Splits a batch where its records' windows change: each piece holds one window's records, in order. */
export function splitByWindow(records: readonly PolledRecord[], seconds: number): PolledRecord[][] {
  const out: PolledRecord[][] = [];
  let current: PolledRecord[] = [];
  let start: number | undefined;
  for (const r of records) {
    const w = windowOf(r.arrivalMs, seconds).start;
    if (start !== undefined && w !== start && current.length > 0) {
      out.push(current);
      current = [];
    }
    start = w;
    current.push(r);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** The tumbling-window fields Lambda adds to a Kinesis event. */
export function windowEvent(
  event: KinesisStreamEvent,
  window: OpenWindow,
  origin: { shardId: string; streamArn: string },
  flags: { final: boolean; terminatedEarly: boolean },
): KinesisStreamEvent {
  return Object.assign(event, {
    window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
    state: window.state ?? {},
    shardId: origin.shardId,
    eventSourceARN: origin.streamArn,
    isFinalInvokeForWindow: flags.final,
    isWindowTerminatedEarly: flags.terminatedEarly,
  });
}

/** The `state` of a function response, or undefined when it has none (a failed invocation). */
export function stateOf(response: unknown): object | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  const state = (response as { state?: unknown }).state;
  return typeof state === 'object' && state !== null ? state : undefined;
}

/** Bytes of a state as Lambda measures it: its JSON. */
export function stateBytes(state: unknown): number {
  return Buffer.byteLength(JSON.stringify(state ?? {}));
}
