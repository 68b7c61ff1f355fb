/**
 * Billing rules against values computed by hand from AWS's published metering rules (see billing.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  firehoseBilledBytes,
  itemSize,
  lambdaGbSeconds,
  numberSize,
  putPayloadUnits,
  readUnits,
  writeUnits,
} from '../../../../infra/aws/billing.ts';

describe('DynamoDB item size', () => {
  it('numbers: one byte per two significant digits plus one, zeros trimmed', () => {
    expect(numberSize('123')).toBe(3); // 3 digits -> 2 + 1
    expect(numberSize('1234')).toBe(3); // 4 digits -> 2 + 1
    expect(numberSize('100')).toBe(2); // "1" -> 1 + 1
    expect(numberSize('-12.50')).toBe(3); // "125" -> 2 + 1
    expect(numberSize('0')).toBe(1);
    expect(numberSize('1.5e10')).toBe(2); // "15" -> 1 + 1
  });
  it('items: attribute names plus values; lists and maps add 3 bytes and 1 per element', () => {
    // pk(2)+"abc"(3) + n(1)+"12345"(3 digits bytes: ceil(5/2)+1=4) + b(1)+10 bytes + t(1)+bool(1)
    expect(
      itemSize({ pk: { S: 'abc' }, n: { N: '12345' }, b: { B: new Uint8Array(10) }, t: { BOOL: true } }),
    ).toBe(5 + 5 + 11 + 2);
    // "é" is 2 bytes of UTF-8.
    expect(itemSize({ s: { S: 'é' } })).toBe(3);
    // l(1) + 3 + (1 + "x"(1)) + (1 + "yz"(2)) = 9
    expect(itemSize({ l: { L: [{ S: 'x' }, { S: 'yz' }] } })).toBe(9);
    // m(1) + 3 + (1 + "k"(1) + "v"(1)) = 7
    expect(itemSize({ m: { M: { k: { S: 'v' } } } })).toBe(7);
  });
});

describe('capacity units', () => {
  it('writes: per started KB of the larger of before and after, at least 1', () => {
    expect(writeUnits(1)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(writeUnits(100, 2049)).toBe(3);
    expect(writeUnits(0)).toBe(1);
  });
  it('reads: per started 4 KB, half for eventually consistent, at least the minimum', () => {
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
    expect(readUnits(4097, false)).toBe(1);
    expect(readUnits(0, true)).toBe(1);
    expect(readUnits(0, false)).toBe(0.5);
  });
});

describe('Kinesis, Firehose, Lambda', () => {
  it('PUT payload units: per started 25 KB of a record', () => {
    expect(putPayloadUnits(300)).toBe(1);
    expect(putPayloadUnits(25 * 1024)).toBe(1);
    expect(putPayloadUnits(25 * 1024 + 1)).toBe(2);
    expect(putPayloadUnits(1024 * 1024)).toBe(41); // 1,048,576 / 25,600 = 40.96
  });
  it('Firehose: each record rounded up to 5 KB', () => {
    expect(firehoseBilledBytes(300)).toBe(5120);
    expect(firehoseBilledBytes(5120)).toBe(5120);
    expect(firehoseBilledBytes(5121)).toBe(10240);
  });
  it('Lambda: ms stretched below one vCPU (1,769 MB), rounded up to 1 ms, times GB', () => {
    // 100 ms * 1769/1024 = 172.75 -> 173 ms at 1 GB
    expect(lambdaGbSeconds(100, 1024)).toBeCloseTo(0.173, 12);
    // at or above 1,769 MB no stretch: 100 ms at 2 GB
    expect(lambdaGbSeconds(100, 2048)).toBeCloseTo(0.2, 12);
    // 10 ms at 128 MB: 10 * 1769/128 = 138.2 -> 139 ms * 0.125 GB
    expect(lambdaGbSeconds(10, 128)).toBeCloseTo(0.139 * 0.125, 12);
  });
});
