import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { cloudEnvironment } from '../../../cli/commands/env.ts';
import { main } from '../../../cli/main.ts';

describe('shardline env', () => {
  it('maps each running endpoint to its standard SDK variable, with region and placeholder credentials', () => {
    const vars = cloudEnvironment(
      {
        region: 'eu-west-1',
        endpoints: {
          kinesis: 'http://127.0.0.1:1',
          dynamodb: 'http://127.0.0.1:2',
          firehose: null,
          ingest: 'http://127.0.0.1:3',
          athena: 'http://127.0.0.1:4',
          cloudformation: 'http://127.0.0.1:5',
          sqs: 'http://127.0.0.1:6',
        },
      },
      {},
    );
    expect(vars).toEqual({
      AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:2',
      AWS_ENDPOINT_URL_ATHENA: 'http://127.0.0.1:4',
      AWS_ENDPOINT_URL_CLOUDFORMATION: 'http://127.0.0.1:5',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:6',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
  });

  it('fails with exit 2 naming the data dir when no local cloud runs there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-cli-'));
    let err = '';
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err += String(s);
      return true;
    });
    try {
      expect(await main(['node', 'shardline', 'env', '--data-dir', dir])).toBe(2);
    } finally {
      e.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(err).toContain(`no local cloud is running in ${dir}`);
  });
});
