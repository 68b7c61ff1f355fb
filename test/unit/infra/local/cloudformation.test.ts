/**
 * The local CloudFormation (DescribeStacks) and on-failure queue (SQS GetQueueAttributes) through the real
 * SDK clients: `readStackOutputs` resolves the local resources' names as it resolves a deployed stack's.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetQueueAttributesCommand, QueueDoesNotExist, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configForStack, readStackOutputs } from '../../../../cli/target.ts';
import { clientConfig } from '../../../../common/aws.ts';
import { resolveConfig } from '../../../../common/config.ts';
import { type LocalApis, startLocalApis } from '../../../../infra/local/apis.ts';

const config = resolveConfig({
  region: 'eu-west-1',
  stream: { name: 'my-stream' },
  table: { name: 'my-table' },
});
let dataDir: string;
let apis: LocalApis;
let cfn: CloudFormationClient;
let sqs: SQSClient;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ||= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ||= 'local';
  dataDir = mkdtempSync(join(tmpdir(), 'cfn-'));
  apis = await startLocalApis({ config, dataDir, functionName: 'fn', ingestUrl: null, stackName: 'MyStack' });
  cfn = new CloudFormationClient(
    clientConfig({ region: 'eu-west-1', endpoint: apis.endpoints.cloudformation, maxAttempts: 1 }),
  );
  sqs = new SQSClient(clientConfig({ region: 'eu-west-1', endpoint: apis.endpoints.sqs, maxAttempts: 1 }));
});

afterAll(async () => {
  cfn.destroy();
  sqs.destroy();
  await apis.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('local CloudFormation DescribeStacks', () => {
  it('answers the stack outputs with the local names; configForStack keeps the local config', async () => {
    const outputs = await readStackOutputs('MyStack', 'eu-west-1', cfn);
    expect(outputs).toMatchObject({
      region: 'eu-west-1',
      streamName: 'my-stream',
      tableName: 'my-table',
      glueDatabase: config.athena.database,
      workgroup: config.athena.workgroup,
      eventsTable: config.archive.tableName,
      quarantineTable: config.quarantine.tableName,
      archiveBucketName: config.archive.bucket,
      functionName: 'fn',
    });
    expect(outputs.ingestUrl).toBeUndefined();
    expect(configForStack(config, outputs)).toEqual(config);
  });

  it("an unknown stack fails with CloudFormation's ValidationError, named with stack and region", async () => {
    const err = await readStackOutputs('Other', 'eu-west-1', cfn).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('cannot read stack "Other" in region eu-west-1');
    expect((err as Error).message).toContain('Stack with id Other does not exist');
    expect(((err as Error).cause as Error).name).toBe('ValidationError');
  });
});

describe('local on-failure queue depth', () => {
  it('counts the OnFailure records the mapping wrote; an unknown queue is QueueDoesNotExist', async () => {
    const url = apis.outputs.dlqUrl!;
    const depth = async () =>
      Number(
        (
          await sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
          )
        ).Attributes?.ApproximateNumberOfMessages,
      );
    expect(await depth()).toBe(0);
    const dir = join(dataDir, 'onfailure', 'aws', 'lambda', '2026', '12', '02', '14');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a'), '{}');
    writeFileSync(join(dir, 'b'), '{}');
    expect(await depth()).toBe(2);
    await expect(
      sqs.send(new GetQueueAttributesCommand({ QueueUrl: `${url}-nope`, AttributeNames: ['All'] })),
    ).rejects.toBeInstanceOf(QueueDoesNotExist);
  });
});
