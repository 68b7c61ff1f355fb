/**
 * The archive's buckets: the archive itself (Firehose writes `raw/` and `quarantine/`; backfill and
 * reconcile rebuild from it), Athena's query results, and the server access log bucket both log into.
 */
import { Duration, type RemovalPolicy, aws_s3 as s3 } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { acknowledgeNag } from './nag.ts';
import { ResourceGroup } from './private/logical-id.ts';

/** Properties of {@link ArchiveStorage}. */
export interface ArchiveStorageProps {
  /** What happens to the buckets when the stack is deleted (RETAIN keeps the data). */
  readonly removalPolicy: RemovalPolicy;
  /** Days the archive bucket keeps a noncurrent (overwritten or deleted) object version, 1–3650. */
  readonly noncurrentVersionDays: number;
}

/**
 * The archive, Athena results and access log buckets: all encrypted (SSE-S3), private, TLS-only; the
 * archive versioned, noncurrent versions expiring after `noncurrentVersionDays`.
 *
 * @example
 * ```ts
 * const storage = new ArchiveStorage(this, 'Storage', {
 *   removalPolicy: RemovalPolicy.RETAIN, noncurrentVersionDays: 30,
 * });
 * ```
 */
export class ArchiveStorage extends ResourceGroup {
  /** Server access logs of the other two buckets (kept 90 days). */
  readonly accessLogs: s3.Bucket;
  /** Firehose's destination: raw events and quarantined records. */
  readonly archive: s3.Bucket;
  /** Athena query results (kept 30 days). */
  readonly results: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArchiveStorageProps) {
    super(scope, id);
    const { removalPolicy } = props;
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [
        { expiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
    acknowledgeNag(this.accessLogs, {
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket itself; logging it into itself would loop.',
    });
    this.archive = new s3.Bucket(this, 'Archive', {
      // What backfill and reconcile rebuild from: an overwrite or a delete leaves the previous version.
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays),
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
            // Glacier Instant Retrieval stays queryable by Athena.
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(180) },
          ],
        },
      ],
      removalPolicy,
    });
    this.results = new s3.Bucket(this, 'AthenaResults', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [
        { expiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
    });
  }
}
