/** Public surface of the ingest endpoint's shared logic (used by the local cloud's HTTP server). */
export {
  INGEST_LIMITS,
  type IngestPolicy,
  type IngestProblem,
  type IngestRecord,
  type ParseOutcome,
  parseIngestBody,
  WEB_SOURCE_PREFIX,
  webIngestPolicy,
} from './body.ts';
export { IngestOptionsError } from './errors.ts';
export {
  createIngestHandler,
  type IngestHandler,
  type IngestHandlerOptions,
  type IngestStats,
} from './handler.ts';
export { type PutFailure, type PutOptions, type PutOutcome, putRecordsAll } from './put.ts';
