/** Public surface of the queries area: local SQL engine, catalog, aggregates reader and reconcile. */
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
} from './reconcile.ts';
export { type RunQueryOptions, type RunQueryResult, resolveQuery, runQuery } from './run.ts';
