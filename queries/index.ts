/** Public surface of the queries area: SQL engines (DuckDB, Athena), catalog, aggregates, reconcile, backfill. */
export {
  type AggregateRow,
  dimNames,
  findRollup,
  mergeItems,
  type ReadAggregatesOptions,
  readAggregates,
  readShardCheckpoints,
  type ShardCheckpoint,
} from './aggregates.ts';
export {
  ATHENA_PRICE_AS_OF,
  ATHENA_USD_PER_TB,
  AthenaQueryCancelledError,
  AthenaQueryFailedError,
  type AthenaQueryOptions,
  type AthenaQueryResult,
  type AthenaQueryStats,
  athenaClient,
  athenaQueryCost,
  type QueryCost,
  runAthenaQuery,
} from './athena/index.ts';
export {
  BACKFILL_SK,
  type BackfillChange,
  type BackfillOptions,
  type BackfillReport,
  type BackfillSegment,
  backfill,
  closedCutoff,
  closedRange,
} from './backfill.ts';
export {
  CATALOG_DIR,
  type CatalogQuery,
  loadCatalog,
  loadCatalogFile,
  PARAM_TYPES,
  type ParamSpec,
  type ParamType,
  parseCatalogSql,
  parseParamAssignments,
  renderQuery,
} from './catalog.ts';
export {
  type CellValue,
  DuckDbEngine,
  type LocalEngineOptions,
  type QueryResult,
  type QueryStats,
  type Row,
} from './engine/duckdb.ts';
export { QueryDefinitionError, QueryExecutionError } from './errors.ts';
export { type LocalDynamo, openDynamo } from './local.ts';
export {
  type ArchiveAggregate,
  compareAggregates,
  DEFAULT_SUM_TOLERANCE,
  type Drift,
  type ReconcileOptions,
  type ReconcileReport,
  reconcile,
  rollupEventsSql,
} from './reconcile.ts';
export {
  type AthenaRunQueryResult,
  type LocalRunQueryResult,
  type RunQueryOptions,
  type RunQueryResult,
  resolveQuery,
  runQuery,
} from './run.ts';
export { type PipelineStatus, readStatus, type ShardStatus } from './status.ts';
