/** Public surface of the dashboard: the server (API + page) and the API's pure pieces. */
export {
  AggregatesApi,
  type ApiContext,
  type ApiResponse,
  LATEST_LOOKBACK_WINDOWS,
  type RollupInfo,
  rankRows,
  rowValue,
  type Series,
  type SeriesPoint,
  type SeriesResponse,
  type TopResponse,
  type TopRow,
  toSeries,
} from './api.ts';
export {
  localOnFailureDepth,
  type OnFailureDepth,
  type PipelineHealth,
  type ShardHealth,
  ThroughputMeter,
} from './health.ts';
export {
  type DashboardClients,
  type DashboardOptions,
  type DashboardTarget,
  type ResolvedDashboardOptions,
  resolveDashboardOptions,
} from './options.ts';
export { parseSeriesQuery, parseTimeValue, parseTopQuery, rankKeys } from './params.ts';
export { type DashboardServer, startDashboard } from './server.ts';
