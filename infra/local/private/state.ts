/** Checkpoint files of the event source mapping: one JSON file per shard, written atomically. */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ShardCheckpoint {
  readonly shardId: string;
  /** Last sequence number processed (delivered successfully or discarded to OnFailure). */
  readonly sequenceNumber: string | null;
  /** The shard is closed and was read to its end. */
  readonly finished: boolean;
  readonly updatedAt: string;
  /** The open tumbling window and its state, saved with the checkpoint (Lambda keeps both durably). */
  readonly window?: OpenWindow;
}

/** A tumbling window the mapping has invoked the function for and not yet closed. */
export interface OpenWindow {
  /** Epoch ms, inclusive / exclusive. */
  readonly start: number;
  readonly end: number;
  /** The state the function returned last. */
  readonly state: unknown;
}

export interface MappingState {
  readonly uuid: string;
  /** Epoch ms the mapping was first started. */
  readonly createdAt: number;
  /** Shards listed when the mapping was created: they start at the configured position, later ones at TRIM_HORIZON. */
  readonly initialShards: readonly string[];
}

/** Writes JSON to `path` atomically (temp file, then rename). */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${randomUUID()}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export class StateStore {
  readonly #dir: string;
  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(join(dir, 'shards'), { recursive: true });
  }
  readMapping(): MappingState | undefined {
    return readJson<MappingState>(join(this.#dir, 'mapping.json'));
  }
  writeMapping(state: MappingState): void {
    writeJsonAtomic(join(this.#dir, 'mapping.json'), state);
  }
  readShard(shardId: string): ShardCheckpoint | undefined {
    return readJson<ShardCheckpoint>(join(this.#dir, 'shards', `${shardId}.json`));
  }
  writeShard(checkpoint: ShardCheckpoint): void {
    writeJsonAtomic(join(this.#dir, 'shards', `${checkpoint.shardId}.json`), checkpoint);
  }
}
