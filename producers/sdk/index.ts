export {
  backoffDelay,
  chunkRequests,
  entryBytes,
  explicitHashKeyOf,
  type RequestLimits,
} from './batching.ts';
export { BufferFullError, InvalidEventError, InvalidRecordError, ProducerClosedError } from './errors.ts';
export type { EventFields } from './event.ts';
export { createEvent } from './event.ts';
export { isAggregated, KPL_MAGIC } from './kpl.ts';
export type {
  BufferFullPolicy,
  Clock,
  DeliveredRecord,
  FailedRecord,
  PartitionKeyStrategy,
  ProducerOptions,
  ResolvedProducerOptions,
  RetryOptions,
} from './options.ts';
export { MIB, resolveProducerOptions, systemClock } from './options.ts';
export type { ProducerStats } from './producer.ts';
export { Producer } from './producer.ts';
