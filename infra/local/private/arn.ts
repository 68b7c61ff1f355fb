/** The local cloud's account and ARNs (one definition for the cloud, the mapping and the Firehose). */

/** The account id every local ARN carries. */
export const LOCAL_ACCOUNT = '000000000000';

/** ARN of the local stream `streamName` in `region`. */
export function localStreamArn(region: string, streamName: string): string {
  return `arn:aws:kinesis:${region}:${LOCAL_ACCOUNT}:stream/${streamName}`;
}
