import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deaggregate } from '../../../../../infra/local/firehose/source.ts';

const MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
const aggregate = (pb: Buffer) => Buffer.concat([MAGIC, pb, createHash('md5').update(pb).digest()]);

describe('deaggregate (the local Firehose source)', () => {
  it('passes a valid aggregate holding no user record through whole instead of dropping it', () => {
    const data = aggregate(Buffer.from([0x0a, 0x01, 0x61])); // partition_key_table ["a"], no records
    expect(deaggregate(data, 'k', '1')).toEqual([{ data, subSequenceNumber: null }]);
  });
  it('treats magic plus a checksum and nothing else (20 bytes) as a plain record, as the processor does', () => {
    const data = aggregate(Buffer.alloc(0));
    expect(data.byteLength).toBe(20);
    expect(deaggregate(data, 'k', '1')).toEqual([{ data, subSequenceNumber: null }]);
  });
});
