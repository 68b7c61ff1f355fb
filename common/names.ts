/**
 * Physical resource names per stack. `-c stackName=...` deploys a second copy of the pipeline; the
 * stream, table, delivery streams, Glue database and Athena workgroup have physical names, which would
 * collide with the first copy's. Under any stack name but the default, every one of those names the
 * config leaves at its default is derived from the stack name instead (`Staging` → stream
 * `staging-events`, table `staging-aggregates`, database `staging`, ...). A name set in the config is
 * kept as it is. The CDK app and the local cloud use the same function, so they agree on the names.
 */
import { type ResolvedConfig, resolveConfig } from './config.ts';
import { ConfigError } from './errors.ts';

/** Default stack name (`cdk deploy Shardline`): its resources keep the config's names. */
export const DEFAULT_STACK_NAME = 'Shardline';

/** The prefix names derive from: the stack name in lower case, runs of other characters as `-`. */
export function stackNamePrefix(stackName: string): string {
  const prefix = stackName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z][a-z0-9-]*$/.test(prefix)) {
    throw new ConfigError(
      `stack name must start with a letter and hold letters, digits or hyphens; received ${JSON.stringify(stackName)}`,
    );
  }
  return prefix;
}

/** The config with the physical names of `stackName`'s copy (the config itself for the default stack). */
export function namesForStack(
  config: ResolvedConfig,
  stackName: string = DEFAULT_STACK_NAME,
): ResolvedConfig {
  if (stackName === DEFAULT_STACK_NAME) return config;
  const prefix = stackNamePrefix(stackName);
  const defaults = resolveConfig();
  const name = (what: string, current: string, fallback: string, derived: string, max: number): string => {
    if (current !== fallback) return current;
    if (derived.length > max) {
      throw new ConfigError(
        `stack name ${JSON.stringify(stackName)} makes the ${what} ${JSON.stringify(derived)}, longer than ${max} characters; set it in the config`,
      );
    }
    return derived;
  };
  return {
    ...config,
    stream: {
      ...config.stream,
      name: name('stream name', config.stream.name, defaults.stream.name, `${prefix}-events`, 128),
    },
    table: {
      ...config.table,
      name: name('table name', config.table.name, defaults.table.name, `${prefix}-aggregates`, 255),
    },
    archive: {
      ...config.archive,
      bucket: name('archive bucket', config.archive.bucket, defaults.archive.bucket, `${prefix}-archive`, 63),
      deliveryStreamName: name(
        'archive delivery stream name',
        config.archive.deliveryStreamName,
        defaults.archive.deliveryStreamName,
        `${prefix}-archive`,
        64,
      ),
    },
    quarantine: {
      ...config.quarantine,
      deliveryStreamName: name(
        'quarantine delivery stream name',
        config.quarantine.deliveryStreamName,
        defaults.quarantine.deliveryStreamName,
        `${prefix}-quarantine`,
        64,
      ),
    },
    athena: {
      ...config.athena,
      database: name(
        'Glue database name',
        config.athena.database,
        defaults.athena.database,
        prefix.replace(/-/g, '_'),
        255,
      ),
      workgroup: name(
        'Athena workgroup name',
        config.athena.workgroup,
        defaults.athena.workgroup,
        prefix,
        128,
      ),
    },
  };
}
