/** The event source mapping's payload sizer agrees with serializing the Lambda record. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type PolledRecord,
  payloadSizer,
  type RecordOrigin,
  recordPayloadBytes,
} from '../../../../../infra/local/private/event.ts';

const origin: RecordOrigin = {
  shardId: 'shardId-000000000003',
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/shardline-events',
  region: 'us-east-1',
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/shardline-processor-role',
};

describe('payloadSizer', () => {
  it('gives the serialized size of every record, odd partition keys and timestamps included', () => {
    const size = payloadSizer(origin);
    const record = fc.record({
      sequenceNumber: fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9]\d{0,128}$/)),
      partitionKey: fc.oneof(
        fc.string({ minLength: 1, maxLength: 256 }),
        fc.constant('dev"ice\\1\u00e9\u2028'),
      ),
      data: fc.uint8Array({ maxLength: 300 }),
      arrivalMs: fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.constant(1_545_084_650_987)),
    });
    fc.assert(
      fc.property(record, (r: PolledRecord) => {
        expect(size(r)).toBe(recordPayloadBytes(r, origin));
      }),
      { numRuns: 500 },
    );
  });
});
