/**
 * `--target aws` reads a deployed stack's outputs with the real CloudFormation client, answered here by a
 * recorded DescribeStacks response (no CloudFormation emulator exists): every required output must be
 * there, outputs added after the first release may be missing.
 */
import { Readable } from 'node:stream';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { configForStack, readStackOutputs } from '../../../cli/target.ts';
import { resolveConfig } from '../../../common/config.ts';
import { STACK_OUTPUTS } from '../../../infra/aws/outputs.ts';

function recordedStack(outputs: Record<string, string>): CloudFormationClient {
  const members = Object.entries(outputs)
    .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
    .join('');
  const xml = `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>Shardline</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-11-22T00:00:00Z</CreationTime><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></DescribeStacksResponse>`;
  return new CloudFormationClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler: {
      handle: async () => ({
        response: {
          statusCode: 200,
          headers: { 'content-type': 'text/xml' },
          body: Readable.from([Buffer.from(xml)]),
        },
      }),
    },
  });
}

const all = Object.fromEntries(Object.values(STACK_OUTPUTS).map((name) => [name, `value-of-${name}`]));

describe('readStackOutputs', () => {
  it('maps every output and lets configForStack use the deployed names', async () => {
    const outputs = await readStackOutputs(
      'Shardline',
      undefined,
      recordedStack({ ...all, Region: 'eu-west-1' }),
    );
    expect(outputs.streamName).toBe('value-of-StreamName');
    const config = configForStack(resolveConfig(), outputs);
    expect(config.region).toBe('eu-west-1');
    expect(config.table.name).toBe('value-of-TableName');
    expect(config.athena.workgroup).toBe('value-of-AthenaWorkGroupName');
  });

  it('accepts a stack deployed before the ingest outputs existed', async () => {
    const { IngestUrl: _u, IngestApiKeyId: _k, ...older } = all;
    const outputs = await readStackOutputs('Shardline', undefined, recordedStack(older));
    expect(outputs.ingestUrl).toBeUndefined();
  });

  it('names the required outputs a stack lacks', async () => {
    const { StreamName: _s, TableName: _t, ...partial } = all;
    await expect(readStackOutputs('Shardline', undefined, recordedStack(partial))).rejects.toThrow(
      'lacks outputs StreamName, TableName',
    );
  });
});
