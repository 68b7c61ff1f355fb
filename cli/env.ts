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
  /** `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, when set. */
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: string | undefined;
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
    accessKeyId: set(env.AWS_ACCESS_KEY_ID),
    secretAccessKey: set(env.AWS_SECRET_ACCESS_KEY),
    endpoints: {
      kinesis: set(env.AWS_ENDPOINT_URL_KINESIS),
      dynamodb: set(env.AWS_ENDPOINT_URL_DYNAMODB),
      firehose: set(env.AWS_ENDPOINT_URL_FIREHOSE),
    },
  };
}

/**
 * For `--target aws`: the stack's region becomes the default. The SDK reads `AWS_ENDPOINT_URL_<SERVICE>`
 * itself and they are left as the user set them: `eval "$(shardline env)"` points them at the local cloud's
 * AWS APIs on purpose (nothing in the CLI writes them).
 */
export function useAwsEnvironment(stackRegion: string, env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_REGION ??= stackRegion;
}

/**
 * Bring your own emulator: the Kinesis / DynamoDB endpoints set in the environment, which `up` and `demo`
 * use instead of starting kinesalite / dynalite.
 */
export function externalEndpoints(env: CliEnvironment = cliEnvironment()): {
  kinesis?: string;
  dynamodb?: string;
} {
  return {
    ...(env.endpoints.kinesis ? { kinesis: env.endpoints.kinesis } : {}),
    ...(env.endpoints.dynamodb ? { dynamodb: env.endpoints.dynamodb } : {}),
  };
}
