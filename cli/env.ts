/**
 * The CLI's boundary with its environment: the one place (with `bin/shardline.mjs`) where the CLI reads or
 * changes its environment variables. Commands get these values and hand clients, endpoints and settings down as values.
 */

/** What the CLI reads from its environment. */
export interface CliEnvironment {
  /** `SHARDLINE_CONFIG`: the config file when `--config` is not given. */
  readonly configFile: string | undefined;
  /** `SHARDLINE_VERBOSE`: print the local cloud's own log lines during `demo`. */
  readonly verbose: boolean;
  /** `AWS_REGION`. */
  readonly region: string | undefined;
  /** The SDK's standard endpoint variables, `AWS_ENDPOINT_URL_<SERVICE>`. */
  readonly endpoints: {
    readonly kinesis: string | undefined;
    readonly dynamodb: string | undefined;
    readonly firehose: string | undefined;
  };
}

/** Reads the variables the CLI uses. */
export function cliEnvironment(env: NodeJS.ProcessEnv = process.env): CliEnvironment {
  const set = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  return {
    configFile: set(env.SHARDLINE_CONFIG),
    verbose: set(env.SHARDLINE_VERBOSE) !== undefined,
    region: set(env.AWS_REGION),
    endpoints: {
      kinesis: set(env.AWS_ENDPOINT_URL_KINESIS),
      dynamodb: set(env.AWS_ENDPOINT_URL_DYNAMODB),
      firehose: set(env.AWS_ENDPOINT_URL_FIREHOSE),
    },
  };
}

/**
 * For `--target aws`: the SDK reads `AWS_ENDPOINT_URL_<SERVICE>` itself, so endpoints of a local cloud left
 * in the environment (`http://127.0.0.1...`) are removed, and the stack's region becomes the default.
 */
export function useAwsEnvironment(stackRegion: string, env: NodeJS.ProcessEnv = process.env): void {
  for (const v of ['AWS_ENDPOINT_URL_KINESIS', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_FIREHOSE']) {
    if (env[v]?.startsWith('http://127.0.0.1')) delete env[v];
  }
  env.AWS_REGION ??= stackRegion;
}
