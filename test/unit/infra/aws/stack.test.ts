import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, aws_dynamodb as dynamodb, aws_s3 as s3 } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type ShardlineConfigInput } from '../../../../common/config.ts';
import { ARCHIVE_COLUMNS } from '../../../../common/envelope.ts';
import { buildApp } from '../../../../infra/aws/lib/build.ts';
import { acknowledgeNag } from '../../../../infra/aws/lib/nag.ts';
import type { ShardlineStack } from '../../../../infra/aws/lib/shardline-stack.ts';
import { STACK_OUTPUTS } from '../../../../infra/aws/outputs.ts';
import { stackFixture } from '../../../helpers/stack.ts';

/** Athena's `${dt}` placeholder (kept out of string literals for the linter). */
const DT = ['$', '{dt}'].join('');

// GIVEN a tiny handler and a synthetic query catalog (test/helpers/stack.ts).
const fixture = stackFixture();
const { handlerEntry, catalogDir } = fixture;
const dir = fixture.dir;
const synth = (input: ShardlineConfigInput) => fixture.synth(input);

let template: Template;
let stack: ShardlineStack;
let outdir: string;

beforeAll(() => {
  ({ stack, template, outdir } = synth({ stream: { shardCount: 3 }, eventSource: { batchSize: 250 } }));
}, 60_000);

afterAll(() => fixture.dispose());

describe('ShardlineStack', () => {
  it('maps the event source from config.eventSource', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 250,
      MaximumBatchingWindowInSeconds: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ParallelizationFactor: 1,
      StartingPosition: 'TRIM_HORIZON',
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('runs the processor on arm64 Node 24 with the handler environment and shard-sized concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      ReservedConcurrentExecutions: 3,
      Environment: {
        Variables: Match.objectLike({
          SHARDLINE_TABLE: Match.anyValue(),
          SHARDLINE_QUARANTINE_STREAM: Match.anyValue(),
          SHARDLINE_CONFIG: JSON.stringify(
            resolveConfig({ stream: { shardCount: 3 }, eventSource: { batchSize: 250 } }),
          ),
          POWERTOOLS_SERVICE_NAME: 'shardline-processor',
          POWERTOOLS_METRICS_NAMESPACE: 'Shardline',
        }),
      },
    });
  });

  it('encrypts the provisioned stream with KMS', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 3,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
  });

  it('declares the aggregates table from tableDefinition with TTL and PITR', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'shardline-aggregates',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byRollupTime' })],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('keeps every log group the same, explicit number of days (logRetentionDays)', () => {
    const retention = (t: Template) =>
      Object.values(t.findResources('AWS::Logs::LogGroup')).map(
        (g) => (g as { Properties: { RetentionInDays?: number } }).Properties.RetentionInDays,
      );
    // processor, the two delivery streams, the ingest API's access log
    expect(retention(template)).toEqual([30, 30, 30, 30]);
    const { template: t } = fixture.synth({}, { logRetentionDays: 90 });
    expect(retention(t)).toEqual([90, 90, 90, 90]);
    expect(() => fixture.synth({}, { logRetentionDays: 31 })).toThrow(
      /logRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, .*; received 31/,
    );
  }, 60_000);

  it("leaves API Gateway's account-wide CloudWatch role to the operator", () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    const roles = JSON.stringify(template.findResources('AWS::IAM::Role'));
    expect(roles).not.toContain('AmazonAPIGatewayPushToCloudWatchLogs');
  });

  it('records the cdk-nag acknowledgments in the template, on the resources they concern', () => {
    const resources = template.toJSON()['Resources'] as Record<
      string,
      { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress: { id: string; reason: string }[] } } }
    >;
    const acked = (id: string) =>
      Object.entries(resources)
        .filter(([, r]) => r.Metadata?.cdk_nag?.rules_to_suppress.some((x) => x.id === id))
        .map(([, r]) => r.Type);
    expect(acked('AwsSolutions-SQS3')).toContain('AWS::SQS::Queue');
    expect(acked('AwsSolutions-S1')).toContain('AWS::S3::Bucket');
    expect(acked('AwsSolutions-KDF1')).toEqual(['AWS::KinesisFirehose::DeliveryStream']);
    for (const r of Object.values(resources)) {
      for (const x of r.Metadata?.cdk_nag?.rules_to_suppress ?? [])
        expect(x.reason.length).toBeGreaterThan(20);
    }
  });

  it('keeps the table deletable when the stack does not retain data', () => {
    const { template: t } = fixture.synth({}, { retainData: false });
    t.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  }, 60_000);

  it('archives the stream to S3 as Parquet through Firehose with the configured prefixes', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: 'shardline-archive',
      DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: Match.objectLike({ KinesisStreamARN: Match.anyValue() }),
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: 'raw/dt=!{timestamp:yyyy-MM-dd-HH}/',
        ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd-HH}/',
        FileExtension: '.parquet',
        BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 64 },
        DataFormatConversionConfiguration: Match.objectLike({
          Enabled: true,
          InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: Match.anyValue() } },
          OutputFormatConfiguration: { Serializer: { ParquetSerDe: Match.anyValue() } },
        }),
      }),
    });
  });

  it('has a Direct PUT quarantine delivery stream under the quarantine prefix', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: 'shardline-quarantine',
      DeliveryStreamType: 'DirectPut',
      ExtendedS3DestinationConfiguration: Match.objectLike({
        Prefix: 'quarantine/dt=!{timestamp:yyyy-MM-dd-HH}/',
        ErrorOutputPrefix: Match.stringLikeRegexp('!\\{firehose:error-output-type\\}'),
      }),
    });
  });

  it('projects the Glue events table exactly onto the Firehose prefix, columns from ARCHIVE_COLUMNS', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'events',
        PartitionKeys: [Match.objectLike({ Name: 'dt', Type: 'string' })],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd-HH',
          'projection.dt.range': '2025-01-01-00,NOW',
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'HOURS',
          'storage.location.template': Match.objectLike({
            'Fn::Join': ['', ['s3://', Match.anyValue(), `/raw/dt=${DT}/`]],
          }),
        }),
        StorageDescriptor: Match.objectLike({
          Columns: ARCHIVE_COLUMNS.map((c) => Match.objectLike({ Name: c.name, Type: c.glueType })),
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        }),
      }),
    });
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'quarantine',
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.dt.interval.unit': 'HOURS',
        }),
      }),
    });
  });

  it('enforces the workgroup settings with the configured scan cutoff', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'shardline',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10_000_000_000,
        ResultConfiguration: Match.objectLike({ EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } }),
      }),
    });
  });

  it('creates one named query per catalog .sql file', () => {
    template.resourceCountIs('AWS::Athena::NamedQuery', 2);
    template.hasResourceProperties('AWS::Athena::NamedQuery', {
      Name: 'top_sources',
      Description: 'Top sources',
      QueryString: Match.stringLikeRegexp('SELECT 1'),
      Database: 'shardline',
    });
    expect(stack.catalogQueries.map((q) => q.name)).toEqual(['top_sources', 'hourly_counts']);
  });

  it('alarms on iterator age, errors, throttles, write throttling, DLQ depth, freshness and quarantine', () => {
    for (const metricName of [
      'IteratorAge',
      'Errors',
      'Throttles',
      'WriteProvisionedThroughputExceeded',
      'ApproximateNumberOfMessagesVisible',
      'DeliveryToS3.DataFreshness',
    ]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: metricName });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'QuarantinedRecords',
      Namespace: 'Shardline',
      Dimensions: [{ Name: 'service', Value: 'shardline-processor' }],
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('encrypts every bucket, blocks public access and denies plain HTTP', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets).length).toBe(3);
    for (const b of Object.values(buckets) as { Properties: Record<string, unknown> }[]) {
      expect(b.Properties['BucketEncryption']).toBeDefined();
      expect(b.Properties['PublicAccessBlockConfiguration']).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(b.Properties['LifecycleConfiguration']).toBeDefined();
    }
    template.resourceCountIs('AWS::S3::BucketPolicy', 3);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('keeps the logical IDs resources had before the stack was split into constructs', () => {
    // Captured from the single-constructor stack: a renamed logical ID makes CloudFormation create a new
    // resource (failing on named ones) and delete the old one (or orphan it, if retained).
    const resources = template.toJSON()['Resources'] as Record<string, { Type: string }>;
    for (const [logicalId, type] of Object.entries({
      Stream790BDEE4: 'AWS::Kinesis::Stream',
      AggregatesDCEBC1D6: 'AWS::DynamoDB::Table',
      AccessLogs8B620ECA: 'AWS::S3::Bucket',
      ArchiveDA4CB258: 'AWS::S3::Bucket',
      AthenaResults99A60126: 'AWS::S3::Bucket',
      GlueDatabase: 'AWS::Glue::Database',
      EventsTable: 'AWS::Glue::Table',
      QuarantineTable: 'AWS::Glue::Table',
      ArchiveDeliveryB26A926F: 'AWS::KinesisFirehose::DeliveryStream',
      QuarantineDelivery81A45D39: 'AWS::KinesisFirehose::DeliveryStream',
      OnFailureQueueB6C8C738: 'AWS::SQS::Queue',
      Processor60228016: 'AWS::Lambda::Function',
      WorkGroup: 'AWS::Athena::WorkGroup',
      IteratorAgeAlarm6757AA2B: 'AWS::CloudWatch::Alarm',
      Dashboard9E4231ED: 'AWS::CloudWatch::Dashboard',
    })) {
      expect(resources[logicalId]?.Type, logicalId).toBe(type);
    }
  });

  it('routes devices/+/events through an IoT topic rule into the stream, with an error action', () => {
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: Match.objectLike({
        Sql: "SELECT *, topic(2) AS source FROM 'devices/+/events'",
        Actions: [
          {
            Kinesis: Match.objectLike({
              StreamName: { Ref: stack.getLogicalId(stack.stream.node.defaultChild as CfnElement) },
              PartitionKey: ['$', '{topic(2)}'].join(''),
            }),
          },
        ],
        ErrorAction: {
          S3: Match.objectLike({
            BucketName: { Ref: stack.getLogicalId(stack.archiveBucket.node.defaultChild as CfnElement) },
          }),
        },
      }),
    });
    template.resourceCountIs('AWS::IoT::Policy', 1);
    // The device rule's alarms notify the stack's alarm topic like every other alarm.
    for (const metricName of ['Failure', 'ParseError']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/IoT',
        MetricName: metricName,
        AlarmActions: [Match.anyValue()],
        OKActions: [Match.anyValue()],
      });
    }
  });

  it('gives a second copy (-c stackName=...) physical names that collide with none of the first', () => {
    // Resources whose names are unique per account and region.
    const unique: Record<string, (p: Record<string, unknown>) => unknown> = {
      'AWS::Kinesis::Stream': (p) => p['Name'],
      'AWS::DynamoDB::Table': (p) => p['TableName'],
      'AWS::KinesisFirehose::DeliveryStream': (p) => p['DeliveryStreamName'],
      'AWS::Glue::Database': (p) => (p['DatabaseInput'] as { Name: string }).Name,
      'AWS::Athena::WorkGroup': (p) => p['Name'],
      'AWS::CloudWatch::Dashboard': (p) => p['DashboardName'],
      'AWS::IoT::TopicRule': (p) => p['RuleName'],
      'AWS::IoT::Policy': (p) => p['PolicyName'],
    };
    const names = (t: Template) =>
      Object.values(
        t.toJSON()['Resources'] as Record<string, { Type: string; Properties: Record<string, unknown> }>,
      )
        .filter((r) => unique[r.Type] !== undefined)
        .map((r) => unique[r.Type]!(r.Properties));
    const first = names(template);
    const second = names(fixture.synth({}, { stackName: 'Staging' }).template);
    expect(first).toHaveLength(9);
    expect(second).toHaveLength(9);
    expect(second.filter((n) => first.includes(n))).toEqual([]);
  }, 60_000);

  it('exports every output the CLI reads', () => {
    for (const name of Object.values(STACK_OUTPUTS)) template.hasOutput(name, {});
  });

  it('follows config changes: batch size, shard count, on-demand mode, JSON archive', () => {
    // WHEN the config changes
    const changed = synth({
      stream: { mode: 'ON_DEMAND' },
      eventSource: { batchSize: 42, maximumRecordAgeInSeconds: 3600 },
      archive: { format: 'json.gz', bufferSizeMiB: 5 },
    }).template;
    // THEN the template follows
    changed.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 42,
      MaximumRecordAgeInSeconds: 3600,
    });
    changed.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'ON_DEMAND' } });
    changed.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: Match.absent() });
    changed.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamName: 'shardline-archive',
      ExtendedS3DestinationConfiguration: Match.objectLike({
        CompressionFormat: 'GZIP',
        DataFormatConversionConfiguration: Match.absent(),
      }),
    });
  }, 60_000);

  it('follows the bill settings: tumbling window, processor memory, on-demand or auto-scaled table', () => {
    // The defaults: no tumbling window, 512 MiB, on-demand.
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      TumblingWindowInSeconds: Match.absent(),
    });
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512 });
    template.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST' });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    const changed = synth({
      eventSource: { tumblingWindowInSeconds: 900 },
      processing: { memoryMiB: 256 },
      table: {
        capacity: {
          mode: 'provisioned',
          writeCapacity: { min: 3, max: 40 },
          readCapacity: { min: 2, max: 10 },
          targetUtilization: 60,
        },
      },
    }).template;
    changed.hasResourceProperties('AWS::Lambda::EventSourceMapping', { TumblingWindowInSeconds: 900 });
    changed.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 256 });
    changed.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: Match.absent(),
      ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 3 },
    });
    changed.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScalableDimension: 'dynamodb:table:WriteCapacityUnits',
      MinCapacity: 3,
      MaxCapacity: 40,
    });
    changed.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 60 }),
    });
  }, 60_000);
});

describe('cdk-nag (AwsSolutions)', () => {
  it('reports no unacknowledged finding, error or warning, and records each acknowledged one with its reason', () => {
    const report = fixture.nagReport(outdir);
    // The pack ran and its section is in the report: the acknowledged findings are there, as suppressed.
    expect(report.present).toBe(true);
    const suppressed = report.suppressed.map((f) => `${f.rule} (${f.severity})`);
    for (const rule of [
      'AwsSolutions-SQS3 (error)',
      'AwsSolutions-KDF1 (error)',
      'AwsSolutions-IAM5[Resource::*] (error)',
      'AwsSolutions-APIG3 (warning)',
    ]) {
      expect(suppressed).toContain(rule);
    }
    for (const f of report.suppressed) expect(f.reason?.length ?? 0).toBeGreaterThan(20);
    expect(fixture.nagViolations(outdir)).toEqual([]);
  });

  it('is live: the app as buildApp wires it rejects an unencrypted, unlogged bucket', () => {
    // GIVEN the Shardline stack as the app builds it, plus a bare bucket
    const app = new App({ outdir: mkdtempSync(join(dir, 'nag-')) });
    const shardline = buildApp(app, resolveConfig({}), { handlerEntry, catalogDir, stackName: 'Nagged' });
    new s3.Bucket(shardline, 'Bare');
    // WHEN synthesized THEN validation fails naming the rule
    expect(() => app.synth()).toThrow(/AwsSolutions-S1'/);
  }, 60_000);

  it('reports an unacknowledged warning, which synth alone lets through', () => {
    // GIVEN the Shardline stack as the app builds it, plus a table without point-in-time recovery
    // (AwsSolutions-DDB3, a warning-level rule)
    const assemblyDir = mkdtempSync(join(dir, 'nag-'));
    const app = new App({ outdir: assemblyDir });
    const shardline = buildApp(app, resolveConfig({}), { handlerEntry, catalogDir, stackName: 'Nagged' });
    new dynamodb.Table(shardline, 'Unprotected', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });
    // WHEN synthesized (CDK judges the pack on errors only once some findings are acknowledged)
    app.synth();
    // THEN the report the app checks names the warning and the resource
    expect(fixture.nagReport(assemblyDir).violations).toContainEqual(
      expect.objectContaining({
        rule: 'AwsSolutions-DDB3',
        severity: 'warning',
        paths: ['Nagged/Unprotected/Resource'],
      }),
    );
  }, 60_000);

  it('records a finding acknowledged with acknowledgeNag as suppressed, with its reason, not as a violation', () => {
    const assemblyDir = mkdtempSync(join(dir, 'nag-'));
    const app = new App({ outdir: assemblyDir });
    const shardline = buildApp(app, resolveConfig({}), { handlerEntry, catalogDir, stackName: 'Nagged' });
    const table = new dynamodb.Table(shardline, 'Unprotected', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });
    const reason = 'Scratch table rebuilt from the archive, so point-in-time recovery adds nothing.';
    acknowledgeNag(table, { id: 'AwsSolutions-DDB3', reason });
    app.synth();
    const report = fixture.nagReport(assemblyDir);
    expect(report.violations).toEqual([]);
    expect(report.suppressed).toContainEqual({
      rule: 'AwsSolutions-DDB3',
      severity: 'warning',
      paths: ['Nagged/Unprotected/Resource'],
      reason,
    });
  }, 60_000);
});
