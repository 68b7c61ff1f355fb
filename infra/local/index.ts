/** Public surface of the local cloud. */
export {
  type CloudInfo,
  ensureTable,
  LOCAL_ACCOUNT,
  LOCAL_FUNCTION_NAME,
  LocalCloud,
  type LocalCloudOptions,
  type LocalCloudStats,
  streamArn,
} from './cloud.ts';
export { findRunningCloud, LOCAL_CREDENTIALS, type LocalService, localClientOptions } from './connect.ts';
export { type Emulator, type EmulatorOptions, startDynamo, startKinesis } from './emulators.ts';
export {
  DrainTimeoutError,
  EventSourceMapping,
  type EventSourceMappingOptions,
  type KinesisHandler,
  type ShardStats,
} from './esm.ts';
export { LocalIngest } from './ingest.ts';
export {
  type BatchResponseOutcome,
  type OnFailureMessage,
  parseBatchResponse,
  toLambdaEvent,
  toLambdaRecord,
} from './private/event.ts';
