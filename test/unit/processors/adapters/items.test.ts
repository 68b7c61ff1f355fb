import { describe, expect, it } from 'vitest';
import { stateFromAttribute, stateToBytes } from '../../../../processors/adapters/items.ts';
import { addValues, emptyState, encodeState, finalizeState } from '../../../../processors/core/state.ts';

describe('stored aggregate states', () => {
  const state = emptyState();
  for (let i = 0; i < 50; i++) addValues(state, ['temperature'], { temperature: 20 + i / 10 });

  it('read back the same from every form a reader may hold', () => {
    const bytes = stateToBytes(state);
    const expected = finalizeState(state);
    expect(finalizeState(stateFromAttribute({ B: bytes }))).toEqual(expected); // low-level client
    expect(finalizeState(stateFromAttribute(bytes))).toEqual(expected); // document client
    expect(finalizeState(stateFromAttribute({ S: encodeState(state) }))).toEqual(expected); // written as S
    expect(finalizeState(stateFromAttribute(encodeState(state)))).toEqual(expected);
  });

  it('are stored compressed', () => {
    expect(stateToBytes(state).length).toBeLessThan(Buffer.byteLength(encodeState(state)));
  });

  it('say what is missing instead of failing obscurely', () => {
    expect(() => stateFromAttribute(undefined)).toThrow('attribute "state" missing');
  });
});
