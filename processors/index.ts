/**
 * The processors area's public surface: everything code outside `processors/` may use. Queries, the
 * dashboard, the CLI, the local cloud and the benchmarks import from here and nowhere else in this folder
 * (the Lambda entry `processors/handler.ts` is the one other module they may load, because it is what Lambda
 * runs); every other module under `processors/` is private to it and may change shape without notice.
 * `test/unit/layout.test.ts` holds that line.
 */

// Record decoding (Kinesis record → events or quarantine outcomes) and the quarantine sink.
export { type DecodeOutcome, decodeRecords, type RecordOrigin } from './adapters/decode.ts';
// The DynamoDB item codec: how aggregate and checkpoint items are written and read back.
export {
  type AggregatePending,
  aggregateCodec,
  type CounterEntry,
  checkpointCodec,
  countersFromItem,
  emptyCounters,
  mergeCounters,
  type ShardCounters,
  stateFromAttribute,
  stateToBytes,
} from './adapters/items.ts';
export { QuarantineSink, type QuarantineSinkOptions, type SendOutcome } from './adapters/quarantine.ts';
// Pure aggregation: keys and dims, folding events into states, merging and finalizing states.
export { type FoldInput, foldBatch, foldEvent } from './core/fold.ts';
export { fromPosition, toPosition } from './core/position.ts';
export {
  type AggregateKey,
  aggregateKey,
  type CompiledRollup,
  compileRollup,
  compileRollups,
  decodeDims,
  encodeDims,
  parseAggregateKey,
  windowStart,
} from './core/rollup.ts';
// Sketch accuracy: what a reconciliation may tolerate between a sketch and an exact answer.
export { EXACT_LIMIT, HLL_STANDARD_ERROR } from './core/sketch/hll.ts';
export { QUANTILE_RELATIVE_ACCURACY, QUANTILE_ZERO_THRESHOLD } from './core/sketch/quantiles.ts';
export {
  type AggState,
  emptyState,
  type FinalMetric,
  type FinalState,
  finalizeState,
  mergeStates,
} from './core/state.ts';
// The processor itself, built from a config and clients passed as values.
export {
  type BatchReport,
  type BatchResponse,
  type BatchResult,
  createProcessor,
  type Processor,
  type ProcessorClients,
  type ProcessorOptions,
  type QuarantinePort,
} from './processor.ts';
