/**
 * One invocation of the mapping's function, as Lambda runs it synchronously: the function timeout (the
 * invocation keeps running as a zombie; its outcome is ignored), ReportBatchItemFailures, and the `state` a
 * tumbling-window response must carry.
 */
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { parseBatchResponse } from '../private/event.ts';
import type { KinesisHandler } from './options.ts';
import { errorMessage } from './options.ts';
import type { InvokeOutcome } from './policy.ts';
import { stateOf } from './windows.ts';

export interface InvokeSettings {
  readonly timeoutMs: number;
  /** The batch's sequence numbers, in order (where a partial failure starts). */
  readonly sequenceNumbers: readonly string[];
  readonly reportBatchItemFailures: boolean;
  /** The event carries a tumbling window: the response must hold its `state`. */
  readonly windowed: boolean;
}

export interface Invocation {
  readonly outcome: InvokeOutcome;
  /** The function returned (neither threw nor timed out). */
  readonly responded: boolean;
  /** The response's tumbling-window `state`, when windowed and present. */
  readonly state: object | undefined;
}

/** Invokes `handler` and reads its outcome. Never throws. */
export async function invokeFunction(
  handler: KinesisHandler,
  event: KinesisStreamEvent,
  context: Context,
  settings: InvokeSettings,
): Promise<Invocation> {
  const { timeoutMs } = settings;
  const invocation = Promise.resolve().then(() => handler(event, context));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const result = await Promise.race([invocation.then((value) => ({ value })), timedOut]);
    if (result === 'timeout') {
      invocation.catch(() => undefined); // the zombie keeps running; its outcome is ignored
      return {
        outcome: {
          kind: 'error',
          message: `Task timed out after ${timeoutMs / 1000} seconds`,
          timeout: true,
        },
        responded: false,
        state: undefined,
      };
    }
    let state: object | undefined;
    if (settings.windowed) {
      state = stateOf(result.value);
      if (state === undefined) {
        return {
          outcome: { kind: 'invalid', reason: 'a tumbling-window response must contain state' },
          responded: true,
          state,
        };
      }
    }
    if (!settings.reportBatchItemFailures) return { outcome: { kind: 'success' }, responded: true, state };
    return { outcome: parseBatchResponse(result.value, settings.sequenceNumbers), responded: true, state };
  } catch (err) {
    return {
      outcome: { kind: 'error', message: errorMessage(err), timeout: false },
      responded: false,
      state: undefined,
    };
  } finally {
    clearTimeout(timer);
  }
}
