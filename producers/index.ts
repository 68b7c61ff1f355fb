/** Public surface of the producers area: the Node SDK, the synthetic scenarios and the load generator. */

export * from './iot/index.ts';
export type {
  ProducedRecord,
  ProduceOptions,
  ProduceProgress,
  ProduceReport,
  ProduceResult,
  ScenarioName,
} from './produce.ts';
export { produce } from './produce.ts';
export * from './scenarios/index.ts';
export * from './sdk/index.ts';
