import { describe, expect, it } from 'vitest';
import { entryFailure } from '../../../../producers/sdk/batching.ts';

describe('entryFailure', () => {
  it('is undefined for an acknowledged entry', () => {
    expect(
      entryFailure({
        SequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      }),
    ).toBeUndefined();
  });
  it('treats a missing result entry as retryable (the record was not acknowledged)', () => {
    expect(entryFailure(undefined)).toEqual({
      code: 'MissingResult',
      message: 'no result for this entry',
      retryable: true,
    });
    expect(entryFailure({})).toMatchObject({ code: 'MissingResult', retryable: true });
  });
  it('retries throttling and internal failures, not other codes', () => {
    expect(
      entryFailure({ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }),
    ).toEqual({ code: 'ProvisionedThroughputExceededException', message: 'slow down', retryable: true });
    expect(entryFailure({ ErrorCode: 'InternalFailure' })?.retryable).toBe(true);
    expect(entryFailure({ ErrorCode: 'AccessDeniedException', ErrorMessage: 'no' })).toEqual({
      code: 'AccessDeniedException',
      message: 'no',
      retryable: false,
    });
  });
});
