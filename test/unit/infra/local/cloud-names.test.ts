import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { clientConfig } from '../../../../common/aws.ts';
import { resolveConfig } from '../../../../common/config.ts';
import { namesForStack } from '../../../../common/names.ts';
import { LocalCloud } from '../../../../infra/local/cloud.ts';
import { LOCAL_CREDENTIALS } from '../../../../infra/local/connect.ts';

describe('LocalCloud stackName', () => {
  it('names its resources as a deployed stack of that name, and answers DescribeStacks for it', async () => {
    const config = resolveConfig({ stream: { shardCount: 1 } });
    const expected = namesForStack(config, 'Staging');
    const dataDir = mkdtempSync(join(tmpdir(), 'cloud-names-'));
    const cloud = await LocalCloud.start({
      config,
      dataDir,
      stackName: 'Staging',
      esm: false,
      firehose: false,
      ingest: false,
    });
    try {
      expect(cloud.config.stream.name).toBe('staging-events');
      expect(cloud.config.table.name).toBe(expected.table.name);
      const cfn = new CloudFormationClient(
        clientConfig({
          endpoint: cloud.endpoints.cloudformation!,
          region: config.region,
          credentials: { ...LOCAL_CREDENTIALS },
        }),
      );
      const out = await cfn.send(new DescribeStacksCommand({ StackName: 'Staging' }));
      cfn.destroy();
      const outputs = Object.fromEntries(
        (out.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]),
      );
      expect(outputs).toMatchObject({
        StreamName: 'staging-events',
        TableName: 'staging-aggregates',
        ArchiveDeliveryStreamName: 'staging-archive',
        QuarantineDeliveryStreamName: 'staging-quarantine',
        GlueDatabaseName: 'staging',
        AthenaWorkGroupName: 'staging',
      });
    } finally {
      await cloud.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
