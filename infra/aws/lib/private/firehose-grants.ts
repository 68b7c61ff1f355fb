/**
 * What a delivery stream's role may do: exactly the actions Firehose documents
 * (firehose/latest/dev/controlling-access.html). In the archive bucket, the S3 destination actions on
 * objects under the delivery stream's own prefixes only (no `s3:DeleteObject`, no retention or legal hold,
 * no other prefix); on a Kinesis source stream, describing it, listing its shards and reading them.
 *
 * The Firehose L2 constructs grant more (`bucket.grantReadWrite`, `stream.grantRead`) and have no option
 * to grant less, so they are handed views of the bucket and stream whose grant method grants this instead.
 */
import { aws_iam as iam, type aws_kinesis as kinesis, type aws_s3 as s3 } from 'aws-cdk-lib';

/** Bucket-level actions Firehose needs (locating the bucket, listing its multipart uploads). */
export const FIREHOSE_BUCKET_ACTIONS = [
  's3:GetBucketLocation',
  's3:ListBucket',
  's3:ListBucketMultipartUploads',
] as const;
/** Object-level actions Firehose needs (writing objects in parts, reading back what it wrote). */
export const FIREHOSE_OBJECT_ACTIONS = ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'] as const;

/**
 * The fixed start of a Firehose prefix, before its first `!{...}` expression: `raw/dt=!{timestamp:...}/`
 * → `raw/dt=`. Objects the prefix can produce all start with it.
 */
export function staticPrefix(prefix: string): string {
  const i = prefix.indexOf('!{');
  return i < 0 ? prefix : prefix.slice(0, i);
}

/** Grants `grantee` the Firehose S3 destination actions, objects under `prefixes` only. */
export function grantFirehoseS3(
  bucket: s3.IBucket,
  grantee: iam.IGrantable,
  prefixes: readonly string[],
): iam.Grant {
  const buckets = iam.Grant.addToPrincipal({
    grantee,
    actions: [...FIREHOSE_BUCKET_ACTIONS],
    resourceArns: [bucket.bucketArn],
  });
  const objects = iam.Grant.addToPrincipal({
    grantee,
    actions: [...FIREHOSE_OBJECT_ACTIONS],
    resourceArns: [...new Set(prefixes.map(staticPrefix))].map((p) => bucket.arnForObjects(`${p}*`)),
  });
  return buckets.combine(objects);
}

/** Kinesis actions Firehose needs on a source stream. */
export const FIREHOSE_SOURCE_ACTIONS = [
  'kinesis:DescribeStream',
  'kinesis:GetShardIterator',
  'kinesis:GetRecords',
  'kinesis:ListShards',
] as const;

/** `target` with `member` replaced; every other member is the target's own (prototype delegation). */
function withMember<T extends object>(target: T, member: keyof T, value: unknown): T {
  const view = Object.create(target) as T;
  Object.defineProperty(view, member, { value });
  return view;
}

/**
 * `stream` as a Firehose Kinesis source sees it: `grantRead(role)` grants {@link FIREHOSE_SOURCE_ACTIONS}
 * on the stream (and decrypting with its key, if it has a customer managed one) instead of every read action.
 */
export function firehoseSourceView(stream: kinesis.IStream): kinesis.IStream {
  return withMember(stream, 'grantRead', (grantee: iam.IGrantable) => {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: [...FIREHOSE_SOURCE_ACTIONS],
      resourceArns: [stream.streamArn],
    });
    stream.encryptionKey?.grantDecrypt(grantee);
    return grant;
  });
}

/**
 * `bucket` as a Firehose S3 destination sees it. The destination construct grants its role
 * `bucket.grantReadWrite(role)` (which includes `s3:DeleteObject*`, `s3:PutObjectRetention` and
 * `s3:PutObjectLegalHold` on the whole bucket); on this view that call grants {@link grantFirehoseS3}
 * on `prefixes` instead. Everything else is the bucket's own.
 */
export function firehoseDestinationView(bucket: s3.IBucket, prefixes: readonly string[]): s3.IBucket {
  return withMember(bucket, 'grantReadWrite', (grantee: iam.IGrantable) =>
    grantFirehoseS3(bucket, grantee, prefixes),
  );
}
