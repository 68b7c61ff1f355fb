/**
 * Stream positions. Kinesis sequence numbers are decimal strings of up to 129 digits
 * (`0|([1-9]\d{0,128})`): never numbers. Padded to a fixed width they compare correctly as strings, which is
 * how the watermark is stored in DynamoDB.
 */
export const POSITION_WIDTH = 129;
const SEQ_RE = /^(0|[1-9]\d{0,128})$/;

/** Fixed-width form of a sequence number: compares as a string exactly as the numbers compare. */
export function toPosition(sequenceNumber: string): string {
  if (!SEQ_RE.test(sequenceNumber)) {
    throw new RangeError(
      `sequence number must match 0|[1-9]\\d{0,128}; got ${JSON.stringify(sequenceNumber)}`,
    );
  }
  return sequenceNumber.padStart(POSITION_WIDTH, '0');
}

/** Inverse of {@link toPosition}. */
export function fromPosition(position: string): string {
  const s = position.replace(/^0+/, '');
  return s === '' ? '0' : s;
}
