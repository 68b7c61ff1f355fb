import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../common/config.ts';
import { type CloudInfo, LocalCloud } from '../../../../infra/local/cloud.ts';

const config = resolveConfig({
  stream: { name: 'ingest-cloud', shardCount: 1 },
  table: { name: 'ingest-cloud-agg' },
});

describe('LocalCloud ingest endpoint', () => {
  it('starts it, exposes endpoints.ingest and ingestUrl (also in cloud.json), and stops it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ingest-cloud-'));
    const cloud = await LocalCloud.start({ config, dataDir, esm: false, firehose: false });
    try {
      expect(cloud.ingestUrl).toBe(`${cloud.endpoints.ingest}/ingest`);
      const info = JSON.parse(readFileSync(join(dataDir, 'cloud.json'), 'utf8')) as CloudInfo;
      expect(info.ingestUrl).toBe(cloud.ingestUrl);
      expect(info.endpoints.ingest).toBe(cloud.endpoints.ingest);
      const health = await fetch(`${cloud.endpoints.ingest}/healthz`);
      expect(await health.json()).toEqual({ ok: true, stream: 'ingest-cloud' });
    } finally {
      await cloud.stop();
    }
    expect(existsSync(join(dataDir, 'cloud.json'))).toBe(false);
    await expect(fetch(`${cloud.endpoints.ingest}/healthz`)).rejects.toThrow();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('can run without it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ingest-cloud-'));
    const cloud = await LocalCloud.start({ config, dataDir, esm: false, firehose: false, ingest: false });
    expect(cloud.ingestUrl).toBeNull();
    expect(cloud.endpoints.ingest).toBeNull();
    await cloud.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
});
