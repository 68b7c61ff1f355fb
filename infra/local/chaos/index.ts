/** Public surface of chaos runs: fault injection over the local cloud. */
export {
  FaultInjector,
  type HandlerFault,
  type InjectedCounts,
  InjectedFaultError,
} from './injector.ts';
export {
  addWireFaults,
  DYNAMODB_ERRORS,
  type ErrorTypes,
  KINESIS_ERRORS,
  type WireFault,
  type WireFaultPolicy,
} from './middleware.ts';
export {
  CHAOS_DEFAULTS,
  type ChaosOptions,
  chaosConfig,
  type ResolvedChaosOptions,
  resolveChaosOptions,
} from './options.ts';
export { mergeShards, openShards, type ReshardEvent, splitShard } from './reshard.ts';
export { ChaosRun, type FaultSummary } from './run.ts';
