/**
 * A whole local cloud in-process on a temp data dir, with poll intervals short enough for tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../common/config.ts';
import { LocalCloud, type LocalCloudOptions } from '../../infra/local/index.ts';

export interface TestCloud {
  readonly cloud: LocalCloud;
  readonly dataDir: string;
  /** Stops the cloud and deletes its data dir. */
  stop(): Promise<void>;
}

export async function startTestCloud(
  config: ResolvedConfig,
  name: string,
  options: Partial<Omit<LocalCloudOptions, 'config' | 'dataDir'>> = {},
): Promise<TestCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), `shardline-${name}-`));
  const cloud = await LocalCloud.start({
    config,
    dataDir,
    esmTuning: { pollIntervalMs: 200 },
    firehoseTuning: { pollIntervalMs: 200 },
    ...options,
  });
  return {
    cloud,
    dataDir,
    async stop() {
      await cloud.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
