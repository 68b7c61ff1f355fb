/**
 * The local data dir (`--data-dir`, default `.shardline/`): what marks a folder as Shardline's, and what
 * a fresh demo keeps when it wipes one.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../common/errors.ts';

/** The file whose presence marks a folder as a Shardline data dir (so the demo may wipe it). */
export const DATA_DIR_MARKER = '.shardline-data';

/**
 * Entries a fresh demo keeps when it wipes the data dir: `cost/` holds the last `cost --measure` run,
 * which later `shardline cost` estimates reuse; it describes the config, not the wiped pipeline.
 */
export const KEPT_ON_WIPE: readonly string[] = [DATA_DIR_MARKER, 'cost'];

function isEmpty(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

/**
 * Creates `dir` and marks it as a Shardline data dir when it is missing or empty; a folder that already
 * holds other things is left unmarked (never claim a user's folder, which a demo would then wipe).
 */
export function claimDataDir(dir: string): void {
  if (!isEmpty(dir)) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, DATA_DIR_MARKER),
    'This folder holds a Shardline local cloud (emulator stores, archive, checkpoints).\n',
  );
}

/**
 * Makes `dir` a clean data dir for a new local cloud, refusing to wipe a folder that is not one of ours.
 * With `keep`, what is there stays; otherwise everything but {@link KEPT_ON_WIPE} is removed.
 * @throws {@link UsageError} `dir` is not empty and carries no {@link DATA_DIR_MARKER}
 */
export function prepareDataDir(dir: string, keep: boolean): void {
  if (!isEmpty(dir)) {
    if (!existsSync(join(dir, DATA_DIR_MARKER))) {
      throw new UsageError(`${dir} is not empty and not a Shardline data dir; pass another --data-dir`);
    }
    if (!keep)
      for (const entry of readdirSync(dir)) {
        if (!KEPT_ON_WIPE.includes(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
      }
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, DATA_DIR_MARKER),
    'This folder holds a Shardline local cloud (emulator stores, archive, checkpoints).\n',
  );
}
