/**
 * The pipeline's configuration: edit this file to change shards, batching, buffering or rollups.
 * Every option, its range and its default is documented in `common/config.ts`.
 * The CDK app, the local cloud and the processor Lambda all read this one file.
 */
import type { ShardlineConfigInput } from './common/config.ts';

const config: ShardlineConfigInput = {
  stream: { shardCount: 4 },
};

export default config;
