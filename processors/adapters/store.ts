/**
 * The exactly-once write path to DynamoDB: every record counted once in the aggregates, however often
 * Lambda delivers it.
 *
 * Each item is written by one shard only and carries that shard's watermark: the position of the last
 * record folded into it. A write is a read-merge-write fenced by a conditional put on the watermark it read
 * (`attribute_not_exists(pk)` for a new item). A retried, bisected or partially replayed batch re-folds only
 * the records past the stored watermark, so applying a batch twice changes nothing; a zombie invocation
 * racing its retry loses the condition and re-reads. Transactions are not needed: each item's conditional
 * write is its own fence.
 *
 * States read are cached per (pk, shard) across invocations (a warm Lambda keeps them), so a steady stream
 * costs one conditional PutItem per touched item per batch and no reads.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ServiceError } from '../../common/errors.ts';

/** One item's pending contribution from a batch. */
export interface PendingWrite<S> {
  readonly pk: string;
  readonly sk: string;
  /** Lowest position contributing (reported as the failure point when the write fails). */
  readonly lo: string;
  /** The contribution of the members strictly after `watermark` (all when undefined); undefined if none. */
  after(watermark: string | undefined): { state: S; hi: string } | undefined;
}

/** How a kind of item maps between state and DynamoDB attributes. */
export interface ItemCodec<S> {
  merge(stored: S, delta: S): S;
  /** The full item for `state` at watermark `wm` (keys included). */
  toItem(pending: PendingWrite<S>, state: S, wm: string): Record<string, AttributeValue>;
  fromItem(item: Record<string, AttributeValue>): S;
}

export interface WriteOutcome<S> {
  readonly applied: number;
  /** Items that already held every record of this batch (a replay). */
  readonly skipped: number;
  /** Items whose write failed after retries: their records must be retried. */
  readonly failed: PendingWrite<S>[];
  readonly errors: unknown[];
  /** DynamoDB requests made (reads and writes), for benchmarks and status. */
  readonly requests: { reads: number; writes: number };
}

interface Known<S> {
  state: S;
  wm: string;
}

export interface FencedStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Parallel writes per batch, 1–256. @default 32 */
  concurrency?: number;
  /** Cached item states, 0–1,000,000 (0 disables the cache). @default 100_000 */
  cacheSize?: number;
  /** Condition conflicts tolerated per item before it is reported failed. @default 5 */
  maxConflicts?: number;
}

/** Writes pending contributions with the watermark fence. One instance per function container. */
export class FencedStore<S> {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #concurrency: number;
  readonly #cacheSize: number;
  readonly #maxConflicts: number;
  readonly #codec: ItemCodec<S>;
  readonly #cache = new Map<string, Known<S> | null>();

  constructor(options: FencedStoreOptions, codec: ItemCodec<S>) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#concurrency = options.concurrency ?? 32;
    this.#cacheSize = options.cacheSize ?? 100_000;
    this.#maxConflicts = options.maxConflicts ?? 5;
    this.#codec = codec;
  }

  async write(pending: readonly PendingWrite<S>[]): Promise<WriteOutcome<S>> {
    const requests = { reads: 0, writes: 0 };
    const failed: PendingWrite<S>[] = [];
    const errors: unknown[] = [];
    let applied = 0;
    let skipped = 0;

    const missing = pending.filter((p) => !this.#cache.has(cacheKey(p)));
    try {
      await this.#prefetch(missing, requests);
    } catch (err) {
      // Reads failed: the items fall back to single reads below, which report their own failures.
      errors.push(err);
    }

    let next = 0;
    const worker = async () => {
      while (next < pending.length) {
        const p = pending[next++]!;
        try {
          const r = await this.#writeOne(p, requests);
          if (r === 'applied') applied++;
          else skipped++;
        } catch (err) {
          failed.push(p);
          errors.push(err);
          this.#cache.delete(cacheKey(p));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, pending.length) }, worker));
    this.#trim();
    return { applied, skipped, failed, errors, requests };
  }

  async #prefetch(items: readonly PendingWrite<S>[], requests: { reads: number }): Promise<void> {
    for (let i = 0; i < items.length; i += 100) {
      let keys: Record<string, AttributeValue>[] = items
        .slice(i, i + 100)
        .map((p) => ({ pk: { S: p.pk }, sk: { S: p.sk } }));
      const wanted = new Set(keys.map((k) => `${k.pk!.S}\u0000${k.sk!.S}`));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 20 * 2 ** attempt) * Math.random());
        if (attempt > 8)
          throw new ServiceError(`BatchGetItem left ${keys.length} keys unprocessed after 8 retries`, {
            retryable: true,
          });
        requests.reads++;
        const res = await this.#client.send(
          new BatchGetItemCommand({ RequestItems: { [this.#table]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of res.Responses?.[this.#table] ?? []) {
          const k = `${item.pk!.S}\u0000${item.sk!.S}`;
          wanted.delete(k);
          this.#cache.set(k, { state: this.#codec.fromItem(item), wm: item.wm!.S! });
        }
        keys = res.UnprocessedKeys?.[this.#table]?.Keys ?? [];
        for (const k of keys) wanted.add(`${k.pk!.S}\u0000${k.sk!.S}`);
        if (keys.length === 0) for (const k of wanted) this.#cache.set(k, null);
      }
    }
  }

  async #read(p: PendingWrite<S>, requests: { reads: number }): Promise<Known<S> | null> {
    requests.reads++;
    const res = await this.#client.send(
      new GetItemCommand({
        TableName: this.#table,
        Key: { pk: { S: p.pk }, sk: { S: p.sk } },
        ConsistentRead: true,
      }),
    );
    const known = res.Item ? { state: this.#codec.fromItem(res.Item), wm: res.Item.wm!.S! } : null;
    this.#cache.set(cacheKey(p), known);
    return known;
  }

  async #writeOne(
    p: PendingWrite<S>,
    requests: { reads: number; writes: number },
  ): Promise<'applied' | 'skipped'> {
    const key = cacheKey(p);
    let known = this.#cache.has(key) ? this.#cache.get(key)! : await this.#read(p, requests);
    for (let conflicts = 0; ; conflicts++) {
      const part = p.after(known?.wm);
      if (part === undefined) return 'skipped';
      const state = known ? this.#codec.merge(known.state, part.state) : part.state;
      const item = this.#codec.toItem(p, state, part.hi);
      try {
        requests.writes++;
        await this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: item,
            ...(known
              ? { ConditionExpression: 'wm = :wm', ExpressionAttributeValues: { ':wm': { S: known.wm } } }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          }),
        );
        this.#cache.set(key, { state, wm: part.hi });
        return 'applied';
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException) || conflicts >= this.#maxConflicts) throw err;
        // Someone else (a replay, a zombie) moved the item: read it again and fold only what is still new.
        known = await this.#read(p, requests);
      }
    }
  }

  #trim(): void {
    if (this.#cache.size <= this.#cacheSize) return;
    const excess = this.#cache.size - this.#cacheSize;
    let n = 0;
    for (const k of this.#cache.keys()) {
      if (n++ >= excess) break;
      this.#cache.delete(k);
    }
  }
}

function cacheKey(p: { pk: string; sk: string }): string {
  return `${p.pk}\u0000${p.sk}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
