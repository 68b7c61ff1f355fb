/** Public surface of the AWS deployment area. */

export {
  type CostAssumptions,
  type CostEstimate,
  type CostLine,
  estimateMonthlyCost,
  resolveCostAssumptions,
} from './cost.ts';
export { ArchiveCatalog, type ArchiveCatalogProps } from './lib/archive-catalog.ts';
export type { BuildOptions } from './lib/build.ts';
export { buildApp } from './lib/build.ts';
export { type CatalogQuery, parseCatalogQuery, readCatalog } from './lib/catalog.ts';
export { ArchiveDelivery, type ArchiveDeliveryProps } from './lib/delivery.ts';
export { Monitoring, type MonitoringProps } from './lib/monitoring.ts';
export {
  formatJavaDate,
  type PartitionProjection,
  projectionFromPrefix,
  projectionParameters,
} from './lib/partition.ts';
export { Processor, type ProcessorProps } from './lib/processor.ts';
export {
  PROCESSOR_TABLE_ACTIONS,
  REPO_ROOT,
  resolveStackProps,
  ShardlineStack,
  type ShardlineStackProps,
} from './lib/shardline-stack.ts';
export { ArchiveStorage, type ArchiveStorageProps } from './lib/storage.ts';
export {
  DEFAULT_STACK_NAME,
  METRICS_NAMESPACE,
  QUARANTINED_METRIC,
  SERVICE_NAME,
  STACK_OUTPUTS,
  type StackOutputKey,
} from './outputs.ts';
export { PRICES, PRICES_AS_OF, PRICES_REGION } from './prices.ts';
