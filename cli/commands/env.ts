/**
 * `shardline env [--data-dir D] [--json]`: the environment that points any AWS tool (the AWS CLI, the SDKs,
 * this CLI's `--target aws`) at the running local cloud: `AWS_ENDPOINT_URL_<SERVICE>` for each service it
 * answers, the region and placeholder credentials (emulators accept any). Use: `eval "$(shardline env)"`.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../common/errors.ts';
import { type CloudInfo, findRunningCloud } from '../../infra/local/connect.ts';
import { cliEnvironment } from '../env.ts';
import { printJson, withCommonOptions } from '../shared.ts';

/** Standard SDK variable of each local endpoint (`AWS_ENDPOINT_URL_<SERVICE ID>`). */
const SERVICE_VARIABLES: Readonly<Record<string, string>> = {
  kinesis: 'AWS_ENDPOINT_URL_KINESIS',
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  firehose: 'AWS_ENDPOINT_URL_FIREHOSE',
  athena: 'AWS_ENDPOINT_URL_ATHENA',
  cloudformation: 'AWS_ENDPOINT_URL_CLOUDFORMATION',
  sqs: 'AWS_ENDPOINT_URL_SQS',
};

/** The variables for a running cloud. Pure. Credentials are placeholders only where none are set. */
export function cloudEnvironment(
  info: CloudInfo,
  env: { AWS_ACCESS_KEY_ID?: string; AWS_SECRET_ACCESS_KEY?: string } = currentCredentials(),
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [service, variable] of Object.entries(SERVICE_VARIABLES)) {
    const endpoint = (info.endpoints as Record<string, string | null | undefined>)[service];
    if (typeof endpoint === 'string') out[variable] = endpoint;
  }
  out.AWS_REGION = info.region;
  out.AWS_DEFAULT_REGION = info.region;
  out.AWS_ACCESS_KEY_ID = env.AWS_ACCESS_KEY_ID || 'local';
  out.AWS_SECRET_ACCESS_KEY = env.AWS_SECRET_ACCESS_KEY || 'local';
  return out;
}

/** The credential variables of this process, as the CLI read them. */
function currentCredentials(): { AWS_ACCESS_KEY_ID?: string; AWS_SECRET_ACCESS_KEY?: string } {
  const { accessKeyId, secretAccessKey } = cliEnvironment();
  return { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey };
}

/** POSIX shell quoting. */
const shellQuote = (v: string) => `'${v.replaceAll("'", `'\\''`)}'`;

export function register(program: Command): void {
  withCommonOptions(
    program
      .command('env')
      .description(
        'print `export AWS_ENDPOINT_URL_<SERVICE>=...` lines (and region, placeholder credentials) for the running local cloud: eval "$(shardline env)"',
      )
      .option('--json', 'print the variables as one JSON object'),
  ).action(async (opts: { dataDir: string; json?: boolean }) => {
    const dataDir = resolve(opts.dataDir);
    const info = await findRunningCloud(dataDir);
    if (!info) {
      throw new UsageError(
        `no local cloud is running in ${dataDir} (no ${dataDir}/cloud.json whose endpoints answer): start one with \`shardline up --data-dir ${opts.dataDir}\``,
      );
    }
    const vars = cloudEnvironment(info);
    if (opts.json) return printJson(vars);
    process.stdout.write(
      `${Object.entries(vars)
        .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
        .join('\n')}\n`,
    );
    if (info.stackName) {
      process.stderr.write(
        `# then: shardline <command> --target aws --stack ${info.stackName} (answered by the local cloud)\n`,
      );
    }
  });
}
