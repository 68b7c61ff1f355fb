/** Small file-system readings shared by the local cloud, the queries and the CLI. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Regular files under `dir`, recursively; 0 when `dir` does not exist. Dot-files (marker files, an
 * in-progress write's temp file) are not counted: they are not records.
 */
export function countFiles(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countFiles(join(dir, e.name));
    else if (e.isFile() && !e.name.startsWith('.')) n++;
  }
  return n;
}
