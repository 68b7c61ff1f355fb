import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackFixture } from '../../../helpers/stack.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const fixture = stackFixture();
let template: Template;

/** The archive bucket: the one Firehose delivers to. */
function archiveBucket(t: Template): Record<string, unknown> {
  const resources = t.toJSON()['Resources'] as Resources;
  const delivery = Object.values(resources).find((r) => r.Type === 'AWS::KinesisFirehose::DeliveryStream')!;
  const dest = delivery.Properties['ExtendedS3DestinationConfiguration'] as {
    BucketARN: { 'Fn::GetAtt': [string] };
  };
  return resources[dest.BucketARN['Fn::GetAtt'][0]]!.Properties;
}

beforeAll(() => {
  ({ template } = fixture.synth({}));
}, 60_000);
afterAll(() => fixture.dispose());

describe('ArchiveStorage', () => {
  it('versions the archive bucket and expires noncurrent versions after 30 days', () => {
    const bucket = archiveBucket(template);
    expect(bucket['VersioningConfiguration']).toEqual({ Status: 'Enabled' });
    const rules = (bucket['LifecycleConfiguration'] as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules.map((r) => r['NoncurrentVersionExpiration'])).toContainEqual({ NoncurrentDays: 30 });
  });

  it('follows noncurrentVersionDays, and rejects one out of range', () => {
    const { template: t } = fixture.synth({}, { noncurrentVersionDays: 7 });
    const rules = (archiveBucket(t)['LifecycleConfiguration'] as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules.map((r) => r['NoncurrentVersionExpiration'])).toContainEqual({ NoncurrentDays: 7 });
    expect(() => fixture.synth({}, { noncurrentVersionDays: 0 })).toThrow(
      /noncurrentVersionDays must be an integer between 1 and 3650; received 0/,
    );
  }, 60_000);
});
