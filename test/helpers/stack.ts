/**
 * Synthesizes the Shardline stack as `npm run synth` does (cdk-nag registered through `buildApp`), with a
 * tiny handler (the real one is bundled by `npm run synth`) and a two-query catalog, into a scratch folder
 * under the project root (NodejsFunction needs its entry there; `scratch/` is git-ignored).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { resolveConfig, type ShardlineConfigInput } from '../../common/config.ts';
import { type BuildOptions, buildApp } from '../../infra/aws/lib/build.ts';
import { type NagReport, readNagReport } from '../../infra/aws/lib/nag.ts';
import { REPO_ROOT, type ShardlineStack } from '../../infra/aws/lib/shardline-stack.ts';
import { DEFAULT_STACK_NAME } from '../../infra/aws/outputs.ts';

export interface Synthesized {
  readonly stack: ShardlineStack;
  readonly template: Template;
  /** The cloud assembly folder (holds `validation-report.json`). */
  readonly outdir: string;
}

/** A scratch folder with a handler and a query catalog; `synth` builds stacks there, `dispose` removes it. */
export interface StackFixture {
  readonly dir: string;
  readonly handlerEntry: string;
  readonly catalogDir: string;
  synth(input: ShardlineConfigInput, options?: BuildOptions): Synthesized;
  /** cdk-nag's unacknowledged findings (errors and warnings) in a synthesized assembly, as `rule (severity)`. */
  nagViolations(outdir: string): string[];
  /** Everything cdk-nag reported for a synthesized assembly, suppressed findings included. */
  nagReport(outdir: string): NagReport;
  dispose(): void;
}

export function stackFixture(): StackFixture {
  mkdirSync(join(REPO_ROOT, 'scratch'), { recursive: true });
  const dir = mkdtempSync(join(REPO_ROOT, 'scratch', 'infra-test-'));
  const handlerEntry = join(dir, 'handler.ts');
  const catalogDir = join(dir, 'catalog');
  writeFileSync(handlerEntry, 'export const handler = async () => ({ batchItemFailures: [] });\n');
  mkdirSync(catalogDir);
  writeFileSync(join(catalogDir, 'a.sql'), '-- name: top_sources\n-- description: Top sources\nSELECT 1;\n');
  writeFileSync(
    join(catalogDir, 'b.sql'),
    '-- name: hourly_counts\n-- description: Counts per hour\nSELECT 2;\n',
  );
  writeFileSync(join(catalogDir, 'notes.txt'), 'not a query');
  return {
    dir,
    handlerEntry,
    catalogDir,
    synth(input, options = {}) {
      const outdir = mkdtempSync(join(dir, 'out-'));
      const app = new App({ outdir });
      const stack = buildApp(app, resolveConfig(input), {
        handlerEntry,
        catalogDir,
        stackName: DEFAULT_STACK_NAME,
        ...options,
      });
      app.synth(); // runs cdk-nag (policy validation plugin): throws ValidationFailed on an unacknowledged error
      return { stack, template: Template.fromStack(stack), outdir };
    },
    nagViolations: (outdir) => readNagReport(outdir).violations.map((v) => `${v.rule} (${v.severity})`),
    nagReport: readNagReport,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
