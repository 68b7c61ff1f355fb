import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticPrefix } from '../../../../infra/aws/lib/private/firehose-grants.ts';
import { stackFixture } from '../../../helpers/stack.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** The S3 actions Firehose documents for an S3 destination (firehose/latest/dev/controlling-access.html#using-iam-s3). */
const DOCUMENTED_S3 = [
  's3:AbortMultipartUpload',
  's3:GetBucketLocation',
  's3:GetObject',
  's3:ListBucket',
  's3:ListBucketMultipartUploads',
  's3:PutObject',
];
/** The Kinesis actions Firehose documents for a Kinesis source. */
const DOCUMENTED_KINESIS = [
  'kinesis:DescribeStream',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
];

const fixture = stackFixture();
let template: Template;
let resources: Resources;

/** Logical IDs of the roles the delivery streams use. */
function firehoseRoles(): string[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::KinesisFirehose::DeliveryStream')
    .map((r) => {
      const dest = r.Properties['ExtendedS3DestinationConfiguration'] as {
        RoleARN: { 'Fn::GetAtt': [string] };
      };
      return dest.RoleARN['Fn::GetAtt'][0];
    });
}

/** Every statement of the policies attached to `roleId`. */
function statementsOf(roleId: string): Statement[] {
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties['Roles']) === JSON.stringify([{ Ref: roleId }]),
    )
    .flatMap((r) => (r.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement);
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const serviceActions = (roleId: string, service: string) =>
  statementsOf(roleId)
    .flatMap(actionsOf)
    .filter((a) => a.startsWith(`${service}:`))
    .sort();

beforeAll(() => {
  ({ template } = fixture.synth({}));
  resources = template.toJSON()['Resources'] as Resources;
}, 60_000);
afterAll(() => fixture.dispose());

describe('ArchiveDelivery', () => {
  it('gives each delivery stream its own role', () => {
    const roles = firehoseRoles();
    expect(roles).toHaveLength(2);
    expect(new Set(roles).size).toBe(2);
  });

  it('lets no Firehose role delete objects, set retention or legal hold: only the documented S3 actions', () => {
    for (const role of firehoseRoles()) {
      const s3 = serviceActions(role, 's3');
      expect(s3, role).not.toContain('s3:DeleteObject');
      expect(
        s3.filter((a) => /Delete|Retention|LegalHold|\*/.test(a)),
        role,
      ).toEqual([]);
      expect([...new Set(s3)].sort(), role).toEqual(DOCUMENTED_S3);
    }
  });

  it('lets each role write objects only under its own delivery stream prefixes', () => {
    const objectResources = (role: string) =>
      JSON.stringify(
        statementsOf(role)
          .filter((s) => actionsOf(s).includes('s3:PutObject'))
          .map((s) => s.Resource),
      );
    const [archive, quarantine] = firehoseRoles() as [string, string];
    // archive: raw/ and errors/ only
    expect(objectResources(archive)).toContain('/raw/dt=*');
    expect(objectResources(archive)).toContain('/errors/*');
    expect(objectResources(archive)).not.toContain('quarantine');
    expect(objectResources(archive)).not.toMatch(/"\/\*"/);
    // quarantine: quarantine/ and its errors only
    expect(objectResources(quarantine)).toContain('/quarantine/dt=*');
    expect(objectResources(quarantine)).toContain('/quarantine-errors/*');
    expect(objectResources(quarantine)).not.toContain('/raw/');
    expect(objectResources(quarantine)).not.toMatch(/"\/\*"/);
  });

  it('reads the source stream with the documented Kinesis actions only', () => {
    const [archive, quarantine] = firehoseRoles() as [string, string];
    expect([...new Set(serviceActions(archive, 'kinesis'))]).toEqual(DOCUMENTED_KINESIS);
    expect(serviceActions(quarantine, 'kinesis')).toEqual([]);
  });

  it('lets Firehose assume a role only for its own delivery stream in this account', () => {
    for (const [role, name] of [
      [firehoseRoles()[0], 'shardline-archive'],
      [firehoseRoles()[1], 'shardline-quarantine'],
    ] as const) {
      const trust = resources[role!]!.Properties['AssumeRolePolicyDocument'] as { Statement: unknown[] };
      expect(trust.Statement).toEqual([
        expect.objectContaining({
          Principal: { Service: 'firehose.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': expect.anything() },
          },
        }),
      ]);
      expect(JSON.stringify(trust)).toContain(`:deliverystream/${name}`);
    }
  });

  it('logs delivery errors to log groups with the stack retention', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: 'shardline-archive',
      ExtendedS3DestinationConfiguration: Match.objectLike({
        CloudWatchLoggingOptions: Match.objectLike({ Enabled: true }),
      }),
    });
  });
});

describe('staticPrefix', () => {
  it('keeps what comes before the first Firehose expression', () => {
    expect(staticPrefix('raw/dt=!{timestamp:yyyy-MM-dd-HH}/')).toBe('raw/dt=');
    expect(staticPrefix('errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy}/')).toBe('errors/');
    expect(staticPrefix('archive/')).toBe('archive/');
    expect(staticPrefix('')).toBe('');
  });
});
