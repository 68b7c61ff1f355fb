/**
 * Checks a drained pipeline against what was produced: the processor's shard counters plus the local
 * device rule's rejections (every record aggregated or quarantined: conservation), every rollup reconciled with the archive, the archive holding
 * every record (raw objects plus Firehose's conversion errors), and the aggregate items written. What
 * `shardline demo` reports and decides its exit code on.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { ResolvedConfig } from '../common/config.ts';
import { countFiles } from '../common/files.ts';
import { SHARDS_PK } from '../common/table.ts';
import { type ReconcileReport, reconcile } from './reconcile.ts';
import { type PipelineStatus, readStatus } from './status.ts';

export interface VerifyPipelineOptions {
  readonly config: ResolvedConfig;
  /** The local cloud's data dir (archive under `s3/<bucket>/`). */
  readonly dataDir: string;
  readonly clients: { readonly kinesis: KinesisClient; readonly dynamodb: DynamoDBClient };
  /** Records the producers got accepted (by Kinesis, or by the MQTT broker for devices). */
  readonly produced: number;
  /** Records the producer gave up on. */
  readonly failed: number;
  /** Event times to reconcile, epoch ms: [from, to). */
  readonly from: number;
  readonly to: number;
}

export interface PipelineVerdict {
  readonly status: PipelineStatus;
  readonly reconcile: ReconcileReport;
  /** Records in the archive: raw objects plus Firehose's conversion-error output. */
  readonly archived: number;
  /** Of those, records Firehose could not convert (under errors/). */
  readonly archiveErrors: number;
  /** Files under the archive's `raw/`. */
  readonly archiveFiles: number;
  readonly aggregateItems: number;
  /**
   * MQTT messages the device topic rule rejected (not JSON, oversize) or could not put on the stream: in the
   * quarantine archive with shard `mqtt`, never on the stream, so neither in the processor's counters nor in
   * the archive.
   */
  readonly ruleQuarantined: number;
  readonly conservation: { readonly ok: boolean; readonly equation: string };
  /** Reconciled, conserved, everything archived and nothing failed to produce. */
  readonly ok: boolean;
}

/** Verifies a drained pipeline (see the module comment). */
export async function verifyPipeline(options: VerifyPipelineOptions): Promise<PipelineVerdict> {
  const { config, dataDir, clients, produced } = options;
  const status = await readStatus(config, clients);
  const rec = await reconcile({
    config,
    dataDir,
    client: clients.dynamodb,
    from: options.from,
    to: options.to,
    // The pipeline was drained: every window is complete, any difference is drift.
    drained: true,
  });
  const counts = await countArchived(config, dataDir);
  const { aggregated, quarantined } = status.totals;
  const ruleQuarantined = counts.ruleQuarantined;
  const conserved = produced === aggregated + quarantined + ruleQuarantined;
  const archived = counts.archived + counts.errors;
  const byRule = ruleQuarantined > 0 ? ` + quarantined by the device rule ${ruleQuarantined}` : '';
  return {
    status,
    reconcile: rec,
    archived,
    archiveErrors: counts.errors,
    archiveFiles: countFiles(join(dataDir, 's3', config.archive.bucket, 'raw')),
    aggregateItems: await countAggregateItems(config, clients.dynamodb),
    ruleQuarantined,
    conservation: {
      ok: conserved,
      equation: `produced ${produced} ${conserved ? '==' : '!='} aggregated ${aggregated} + quarantined ${quarantined}${byRule}`,
    },
    // What the device rule quarantined never reached the stream, so the archive cannot hold it.
    ok: rec.ok && conserved && archived >= produced - ruleQuarantined && options.failed === 0,
  };
}

async function countAggregateItems(config: ResolvedConfig, client: DynamoDBClient): Promise<number> {
  let n = 0;
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const res = await client.send(
      new ScanCommand({
        TableName: config.table.name,
        Select: 'COUNT',
        FilterExpression: 'pk <> :s',
        ExpressionAttributeValues: { ':s': { S: SHARDS_PK } },
        ExclusiveStartKey: start,
      }),
    );
    n += res.Count ?? 0;
    start = res.LastEvaluatedKey;
  } while (start);
  return n;
}

async function countArchived(
  config: ResolvedConfig,
  dataDir: string,
): Promise<{ archived: number; errors: number; ruleQuarantined: number }> {
  const { DuckDbEngine } = await import('./engine/duckdb.ts');
  const { sqlString } = await import('./catalog.ts');
  const engine = await DuckDbEngine.open({ dataDir, config });
  try {
    // Records, not distinct events: every produced record (valid or not) lands exactly once in raw/ or errors/.
    const res = await engine.run(`SELECT count(*) AS n FROM ${config.archive.tableName}`);
    const archived = Number(res.rows[0]?.n ?? 0);
    const errorsDir = join(dataDir, 's3', config.archive.bucket, 'errors');
    let errors = 0;
    if (existsSync(errorsDir)) {
      const r = await engine.run(
        `SELECT count(*) AS n FROM read_json_auto(${sqlString(`${errorsDir}/**/*`)}, format='newline_delimited')`,
      );
      errors = Number(r.rows[0]?.n ?? 0);
    }
    // Each message the device rule quarantined has its own ULID as sequence number (shard `mqtt`); a
    // message is quarantined once, but count distinct ones like `shardline quarantine` does.
    const q = await engine.run(
      `SELECT count(DISTINCT sequencenumber) AS n FROM ${config.quarantine.tableName} WHERE shardid = 'mqtt'`,
    );
    const ruleQuarantined = Number(q.rows[0]?.n ?? 0);
    return { archived, errors, ruleQuarantined };
  } finally {
    await engine.close();
  }
}
