/**
 * The aggregates table layout: a contract shared by the processor (writer), readers, the local cloud
 * (which creates the table) and the CDK app (which declares it).
 *
 * - Aggregate item: `pk` = `<rollup>#<window>#<dims>#<window start ISO>` (see `aggregateKey`), `sk` = shard id.
 *   Only that shard's processor writes it; readers Query one `pk` and merge the shard items.
 * - Shard checkpoint item: `pk` = {@link SHARDS_PK}, `sk` = shard id: per-shard counters and progress.
 * - GSI {@link RANGE_INDEX}: `gpk` = `<rollup>#<window>`, `gsk` = `<window start ISO>#<dims>#<shard id>`,
 *   to list a rollup over a time range without knowing its dims.
 */
export const SHARDS_PK = '_shards';
export const RANGE_INDEX = 'byRollupTime';
export const TTL_ATTRIBUTE = 'ttl';

/** Key schema and indexes in SDK `CreateTable` terms (on-demand billing). */
export function tableDefinition(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' as const },
      { AttributeName: 'sk', AttributeType: 'S' as const },
      { AttributeName: 'gpk', AttributeType: 'S' as const },
      { AttributeName: 'gsk', AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' as const },
      { AttributeName: 'sk', KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: RANGE_INDEX,
        KeySchema: [
          { AttributeName: 'gpk', KeyType: 'HASH' as const },
          { AttributeName: 'gsk', KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      },
    ],
  };
}
