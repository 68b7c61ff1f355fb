import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackFixture } from '../../../helpers/stack.ts';

interface Statement {
  Action: string | string[];
  Resource: unknown;
}
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const fixture = stackFixture();
let template: Template;
let resources: Resources;

/** The processor role's statements, as `action -> resources` (JSON). */
function processorGrants(): Map<string, string> {
  const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
  const roleId = (fn.Properties['Role'] as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  const statements = Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties['Roles']) === JSON.stringify([{ Ref: roleId }]),
    )
    .flatMap((r) => (r.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement);
  const grants = new Map<string, string>();
  for (const s of statements) {
    for (const a of Array.isArray(s.Action) ? s.Action : [s.Action])
      grants.set(a, JSON.stringify(s.Resource));
  }
  return grants;
}

beforeAll(() => {
  ({ template } = fixture.synth({}));
  resources = template.toJSON()['Resources'] as Resources;
}, 60_000);
afterAll(() => fixture.dispose());

describe('Processor', () => {
  it('traces with X-Ray', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
  });

  it('may call only what the code calls, each on its own resource', () => {
    // The processor calls GetItem, BatchGetItem and PutItem (processors/adapters/store.ts) and
    // PutRecordBatch (processors/adapters/quarantine.ts); the event source mapping reads the stream and
    // sends discarded batches' metadata to the queue; Lambda writes logs and traces.
    const grants = processorGrants();
    expect([...grants.keys()].sort()).toEqual(
      [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'firehose:PutRecordBatch',
        'kinesis:DescribeStream',
        'kinesis:DescribeStreamSummary',
        'kinesis:GetRecords',
        'kinesis:GetShardIterator',
        'kinesis:ListShards',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    expect(grants.get('dynamodb:GetItem')).toMatch(/^\{"Fn::GetAtt":\["Aggregates[0-9A-F]{8}","Arn"\]\}$/);
    expect(grants.get('firehose:PutRecordBatch')).toMatch(/QuarantineDelivery[0-9A-F]{8}/);
    expect(grants.get('kinesis:GetRecords')).toMatch(/Stream[0-9A-F]{8}/);
    expect(grants.get('xray:PutTraceSegments')).toBe('"*"');
  });

  it('keeps the event source mapping from config.eventSource, with its on-failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      StartingPosition: 'TRIM_HORIZON',
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    expect(Object.keys(resources).filter((id) => id.startsWith('ProcessorKinesisEventSource'))).toHaveLength(
      1,
    );
  });
});
