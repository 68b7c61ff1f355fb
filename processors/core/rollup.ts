/**
 * Rollups compiled from the config into fast matchers and key builders.
 *
 * An aggregate item is identified by (rollup, window size, dims, window start) and, in DynamoDB, by the
 * shard that wrote it. The key strings here are the table's partition keys; their format is a contract
 * with readers and with reconcile.
 */
import type { RollupConfig, WindowSize } from '../../common/config.ts';
import { distinctFieldsOf, quantileStats, WINDOW_MS } from '../../common/config.ts';
import type { ShardlineEvent } from '../../common/envelope.ts';

export interface CompiledRollup {
  readonly config: RollupConfig;
  readonly name: string;
  readonly metrics: readonly string[];
  readonly windows: readonly { size: WindowSize; ms: number }[];
  /** Whether the rollup keeps quantile sketches of its metrics (it declares a `pNN` stat). */
  readonly quantiles: boolean;
  /** Fields whose distinct values it counts (`distinct:<field>`), with their getters (undefined: absent). */
  readonly distinct: readonly DistinctField[];
  /** Whether the event belongs to this rollup. */
  matches(event: ShardlineEvent): boolean;
  /** Group-by values of the event, in `by` order; a missing dim is the empty string. */
  dimValues(event: ShardlineEvent): string[];
  /**
   * A string equal for two events exactly when their {@link dimValues} are equal (not necessarily the
   * encoded dims): the fold's hot-path lookup key, built without allocating for one or no group-by key.
   */
  groupKey(event: ShardlineEvent): string;
}

export interface DistinctField {
  /** `source`, `type`, `eventId` or `dims.<name>`. */
  readonly field: string;
  /** The event's value of the field; undefined for a missing dim (not counted, like SQL NULL). */
  readonly get: (e: ShardlineEvent) => string | undefined;
}

function distinctField(field: string): DistinctField {
  if (field === 'source') return { field, get: (e) => e.source };
  if (field === 'type') return { field, get: (e) => e.type };
  if (field === 'eventId') return { field, get: (e) => e.eventId };
  const dim = field.slice('dims.'.length);
  return { field, get: (e) => e.dims[dim] };
}

export function compileRollup(config: RollupConfig): CompiledRollup {
  const getters = config.by.map((key): ((e: ShardlineEvent) => string) => {
    if (key === 'source') return (e) => e.source;
    if (key === 'type') return (e) => e.type;
    const dim = key.slice('dims.'.length);
    return (e) => e.dims[dim] ?? '';
  });
  const type = config.eventType;
  const metrics = config.metrics;
  const hasMetric = (e: ShardlineEvent): boolean => {
    for (let i = 0; i < metrics.length; i++) if (e.metrics[metrics[i]!] !== undefined) return true;
    return false;
  };
  const dimValues = (e: ShardlineEvent): string[] => getters.map((g) => g(e));
  const only: ((e: ShardlineEvent) => string) | undefined = getters.length === 1 ? getters[0] : undefined;
  return {
    config,
    name: config.name,
    metrics,
    windows: config.windows.map((size) => ({ size, ms: WINDOW_MS[size] })),
    quantiles: metrics.length > 0 && quantileStats(config.stats).length > 0,
    distinct: distinctFieldsOf(config.stats).map(distinctField),
    matches:
      type === '*'
        ? metrics.length === 0
          ? () => true
          : hasMetric
        : metrics.length === 0
          ? (e) => e.type === type
          : (e) => e.type === type && hasMetric(e),
    dimValues,
    groupKey: getters.length === 0 ? () => '' : (only ?? ((e) => encodeDims(dimValues(e)))),
  };
}

export function compileRollups(configs: readonly RollupConfig[]): CompiledRollup[] {
  return configs.map(compileRollup);
}

/** Start of the tumbling window containing `ts` (epoch ms, UTC). */
export function windowStart(ts: number, windowMs: number): number {
  return Math.floor(ts / windowMs) * windowMs;
}

/** Encodes dim values unambiguously: each URI-encoded, joined by `,` (so `#` and `,` never appear raw). */
export function encodeDims(values: readonly string[]): string {
  if (values.length === 1) return encodeDim(values[0]!);
  return values.map(encodeDim).join(',');
}

const SAFE_DIM = /^[A-Za-z0-9_.!~*'()-]*$/;
function encodeDim(value: string): string {
  return SAFE_DIM.test(value) ? value : encodeURIComponent(value);
}

export function decodeDims(key: string, arity: number): string[] {
  if (arity === 0) return [];
  return key.split(',').map(decodeURIComponent);
}

/** Identity of one aggregate (all shards' items for it share the partition key). */
export interface AggregateKey {
  readonly rollup: string;
  readonly window: WindowSize;
  /** Encoded dims ({@link encodeDims}). */
  readonly dims: string;
  /** Window start, epoch ms UTC. */
  readonly windowStart: number;
}

/** `<rollup>#<window>#<dims>#<window start ISO>`: the DynamoDB partition key of an aggregate. */
export function aggregateKey(k: AggregateKey): string {
  return aggregateKeyWith(k, new Date(k.windowStart).toISOString());
}

/** {@link aggregateKey} with the window start already formatted (`iso`), for callers that share it. */
export function aggregateKeyWith(k: AggregateKey, iso: string): string {
  return `${k.rollup}#${k.window}#${k.dims}#${iso}`;
}

export function parseAggregateKey(pk: string): AggregateKey {
  const parts = pk.split('#');
  if (parts.length !== 4) throw new RangeError(`not an aggregate key: ${pk}`);
  const [rollup, window, dims, start] = parts as [string, WindowSize, string, string];
  return { rollup, window, dims, windowStart: Date.parse(start) };
}
