/**
 * The CDK app: `npm run synth` / `npx cdk deploy`. Loads `shardline.config.ts` at the repo root
 * (default export: the config input), resolves it, and synthesizes the Shardline stack checked by cdk-nag.
 *
 * Context (`-c key=value`): `stackName` (default Shardline), `reserveConcurrency` (default true).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { resolveConfig, type ShardlineConfigInput } from '../../common/config.ts';
import { buildApp } from './lib/build.ts';
import { readNagReport } from './lib/nag.ts';
import { REPO_ROOT } from './lib/shardline-stack.ts';
import { DEFAULT_STACK_NAME } from './outputs.ts';

const configFile = join(REPO_ROOT, 'shardline.config.ts');
const input: ShardlineConfigInput = existsSync(configFile)
  ? (((await import(pathToFileURL(configFile).href)) as { default?: ShardlineConfigInput }).default ?? {})
  : {};
// Run through the CDK CLI (which sets CDK_OUTDIR) or directly (`npx tsx infra/aws/app.ts`): both write cdk.out/.
const app = new App({ outdir: process.env.CDK_OUTDIR ?? join(REPO_ROOT, 'cdk.out') });
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? DEFAULT_STACK_NAME;
const reserve = app.node.tryGetContext('reserveConcurrency') as string | boolean | undefined;
buildApp(app, resolveConfig(input), {
  stackName,
  reserveConcurrency: reserve === undefined ? true : reserve === true || reserve === 'true',
});
const assembly = app.synth();
// CDK fails synth on cdk-nag errors, but once any finding is acknowledged it only prints unacknowledged
// warnings: fail on those too, so every finding is either fixed or acknowledged with a reason.
const { violations } = readNagReport(assembly.directory);
if (violations.length > 0) {
  console.error(
    `cdk-nag: ${violations.length} unacknowledged finding(s): ` +
      violations.map((v) => `${v.rule} (${v.severity}) at ${v.paths.join(', ')}`).join('; '),
  );
  process.exitCode = 1;
}
