/**
 * Pure helpers that turn a Firehose S3 prefix into Athena partition projection settings, so the Glue
 * tables always match the prefix Firehose writes (`raw/dt=!{timestamp:yyyy-MM-dd-HH}/`).
 */
import { ConfigError, describeValue } from '../../../common/errors.ts';

/** Partition projection of a `dt` column over a Firehose timestamp prefix. */
export interface PartitionProjection {
  /** The prefix before the partition, e.g. `raw/`: the Glue table's location. */
  readonly basePrefix: string;
  /** Java date pattern of the partition value, e.g. `yyyy-MM-dd-HH`. */
  readonly format: string;
  /** Granularity of the pattern: the projection interval unit. */
  readonly intervalUnit: 'HOURS' | 'DAYS' | 'MONTHS' | 'YEARS';
  /** `storage.location.template` relative to the bucket, e.g. `raw/dt=${dt}/`. */
  readonly locationTemplate: string;
}

/** The partition column name of every archive table. */
export const PARTITION_COLUMN = 'dt';

const TIMESTAMP_RE = /!\{timestamp:([^}]+)\}/g;
const FORMAT_RE = /^[yMdH_-]+$/;

/**
 * Derives the projection of a prefix holding exactly one `!{timestamp:<pattern>}` placed right after
 * `dt=`. Throws {@link ConfigError} for any other shape, showing the prefix received.
 *
 * @example
 * ```ts
 * projectionFromPrefix('raw/dt=!{timestamp:yyyy-MM-dd-HH}/');
 * // { basePrefix: 'raw/', format: 'yyyy-MM-dd-HH', intervalUnit: 'HOURS', locationTemplate: 'raw/dt=${dt}/' }
 * ```
 */
export function projectionFromPrefix(prefix: string): PartitionProjection {
  const matches = [...prefix.matchAll(TIMESTAMP_RE)];
  const rule = `must contain exactly one "${PARTITION_COLUMN}=!{timestamp:<pattern>}/" segment of y, M, d, H, - and _ and no other expression`;
  if (matches.length !== 1) throw new ConfigError(`prefix ${rule}; received ${describeValue(prefix)}`);
  const match = matches[0]!;
  const format = match[1]!;
  const index = match.index;
  const marker = `${PARTITION_COLUMN}=`;
  const before = prefix.slice(0, index);
  const after = prefix.slice(index + match[0].length);
  if (!before.endsWith(marker) || after !== '/' || !FORMAT_RE.test(format) || before.includes('!{')) {
    throw new ConfigError(`prefix ${rule}; received ${describeValue(prefix)}`);
  }
  const basePrefix = before.slice(0, -marker.length);
  if (basePrefix !== '' && !basePrefix.endsWith('/')) {
    throw new ConfigError(`prefix ${rule}, after a "/"; received ${describeValue(prefix)}`);
  }
  const intervalUnit = format.includes('HH')
    ? 'HOURS'
    : format.includes('dd')
      ? 'DAYS'
      : format.includes('MM')
        ? 'MONTHS'
        : 'YEARS';
  return { basePrefix, format, intervalUnit, locationTemplate: `${before}\${${PARTITION_COLUMN}}/` };
}

/** Formats a UTC date with the subset of Java date patterns {@link projectionFromPrefix} accepts. */
export function formatJavaDate(date: Date, pattern: string): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return pattern
    .replace('yyyy', pad(date.getUTCFullYear(), 4))
    .replace('MM', pad(date.getUTCMonth() + 1))
    .replace('dd', pad(date.getUTCDate()))
    .replace('HH', pad(date.getUTCHours()));
}

/**
 * Glue table parameters for partition projection over `projection`, starting at `start` and open-ended
 * (`NOW`). `bucket` may be a CDK token.
 */
export function projectionParameters(
  projection: PartitionProjection,
  bucket: string,
  start: Date,
): Record<string, string> {
  const col = PARTITION_COLUMN;
  return {
    'projection.enabled': 'true',
    [`projection.${col}.type`]: 'date',
    [`projection.${col}.format`]: projection.format,
    [`projection.${col}.range`]: `${formatJavaDate(start, projection.format)},NOW`,
    [`projection.${col}.interval`]: '1',
    [`projection.${col}.interval.unit`]: projection.intervalUnit,
    'storage.location.template': `s3://${bucket}/${projection.locationTemplate}`,
  };
}
