/**
 * The pipeline's configuration: edit this file to change shards, batching, buffering or rollups.
 * Every option, its range and its default is documented in `common/config.ts`.
 * The CDK app, the local cloud and the processor Lambda all read this one file.
 *
 * Chosen for the bill (see the README's Performance section and `npx shardline cost --measure`):
 * one shard carries 1,000 events/s of 300 B because producers KPL-aggregate records (a shard takes
 * 1 MB/s, and each aggregate counts as one record), and a 2 s batching window halves the invocations and
 * the live rollups' writes while keeping them visible within 5 s of produce.
 */
import type { ShardlineConfigInput } from './common/config.ts';

const config: ShardlineConfigInput = {
  stream: { shardCount: 1 },
  // Lambda tumbling windows of 15 minutes carry the `onClose` rollups (per device, distinct counts) and
  // the hourly windows of the `live` ones, and write each group once per window instead of every batch.
  eventSource: { maximumBatchingWindowInSeconds: 2, tumblingWindowInSeconds: 900 },
};

export default config;
