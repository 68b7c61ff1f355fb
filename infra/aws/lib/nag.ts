/**
 * cdk-nag (AwsSolutions) acknowledgments, each scoped to the one construct it concerns and each with the
 * reason it is acceptable here. cdk-nag 3 reads them through CDK's `Validations.of(...).acknowledge`.
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The constructs that carry acknowledged findings. */
export interface NagScopes {
  readonly accessLogs: IConstruct;
  readonly archiveDelivery: IConstruct;
  readonly quarantineDelivery: IConstruct;
  readonly onFailureQueue: IConstruct;
  readonly archiveBucket: IConstruct;
}

/** Firehose's S3 destination grant (`bucket.grantReadWrite`): the documented Firehose S3 permission set. */
const FIREHOSE_S3_WILDCARDS = [
  'Action::s3:GetObject*',
  'Action::s3:GetBucket*',
  'Action::s3:List*',
  'Action::s3:DeleteObject*',
  'Action::s3:Abort*',
];

export function acknowledgeNagFindings(scopes: NagScopes): void {
  Validations.of(scopes.accessLogs).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'This is the server access log bucket itself; logging it into itself would loop.',
  });
  Validations.of(scopes.archiveDelivery).acknowledge({
    id: 'AwsSolutions-KDF1',
    reason:
      'Firehose rejects server-side encryption when its source is a Kinesis stream; the source stream is ' +
      'KMS-encrypted and the archive bucket encrypts every object (SSE-S3).',
  });
  Validations.of(scopes.onFailureQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself the dead-letter (on-failure) destination of the event source mapping.',
  });
  for (const delivery of [scopes.archiveDelivery, scopes.quarantineDelivery]) {
    const bucketId = Stack.of(scopes.archiveBucket).getLogicalId(
      scopes.archiveBucket.node.defaultChild as CfnElement,
    );
    for (const finding of [...FIREHOSE_S3_WILDCARDS, `Resource::<${bucketId}.Arn>/*`]) {
      Validations.of(delivery).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason:
          'Granted by the Firehose S3 destination construct on the archive bucket only: the object-level ' +
          'and multipart-upload actions Firehose needs to deliver objects (firehose/latest/dev/controlling-access.html#using-iam-s3).',
      });
    }
  }
  Validations.of(scopes.archiveDelivery).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'glue:GetSchemaVersion, added by the Firehose record format conversion construct, has no resource-level ' +
      'permissions; all other Glue actions are limited to the catalog, database and events table.',
  });
}
