/**
 * cdk-nag (AwsSolutions pack) wiring shared by the app and the tests, so both check exactly the same thing.
 *
 * cdk-nag 3 is a CDK policy-validation plugin: at synth it reports its findings into the cloud assembly's
 * `validation-report.json`, next to CDK's own CloudFormation checks. Two details decide what that report shows:
 *
 * - An acknowledgment id without a plugin namespace (`AwsSolutions-S1`) is taken by CDK as an annotation id,
 *   and cdk-nag then drops the finding before reporting it: the report never shows it, not even as
 *   suppressed. With the plugin's namespace (`AwsSolutions::AwsSolutions-S1`) cdk-nag reports the finding
 *   and CDK moves it to the report's `suppressedViolations`, with the reason. {@link acknowledgeNag} does that.
 * - Once CDK has suppressed any finding of a plugin, it judges that plugin's success on errors only: an
 *   unacknowledged warning is printed but does not fail synth. {@link readNagReport} therefore reads
 *   every remaining AwsSolutions violation, warnings included, and the app fails on any of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, Aspects, CfnResource, type IAspect, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The cdk-nag pack the stack is checked against (also its plugin name in the validation report). */
export const NAG_PACK = 'AwsSolutions';

/** One cdk-nag finding as read back from the validation report. */
export interface NagFinding {
  /** Rule id, e.g. `AwsSolutions-S1` or `AwsSolutions-IAM5[Resource::*]`. */
  readonly rule: string;
  /** `error` or `warning` (cdk-nag's two levels). */
  readonly severity: string;
  /** Construct paths of the resources concerned. */
  readonly paths: readonly string[];
  /** Why it is acknowledged (suppressed findings only). */
  readonly reason?: string;
}

/** What cdk-nag reported for one synthesized assembly. */
export interface NagReport {
  /** Whether the report holds a section for the pack (absent when it found nothing at all, suppressed or not). */
  readonly present: boolean;
  /** Unacknowledged findings, errors and warnings. */
  readonly violations: readonly NagFinding[];
  /** Acknowledged findings, each with its reason. */
  readonly suppressed: readonly NagFinding[];
}

/** Registers the AwsSolutions checks on `app`, and the aspect that records acknowledgments in the template. */
export function registerNag(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  Aspects.of(app).add(new NagMetadataAspect());
}

/**
 * Acknowledges the cdk-nag finding `id` (e.g. `AwsSolutions-SQS3`, or one finding of a multi-finding rule:
 * `AwsSolutions-IAM5[Resource::*]`) on `scope` and everything under it, so it is reported as suppressed with
 * `reason` instead of failing synth. Acknowledge on the narrowest construct the reason is true for.
 */
export function acknowledgeNag(
  scope: IConstruct,
  ack: { readonly id: string; readonly reason: string },
): void {
  Validations.of(scope).acknowledge({ id: `${NAG_PACK}::${ack.id}`, reason: ack.reason });
}

interface ReportFile {
  pluginReports: {
    pluginName: string;
    violations: ReportViolation[];
    suppressedViolations?: (ReportViolation & { reason?: string })[];
  }[];
}
interface ReportViolation {
  ruleName: string;
  severity?: string;
  violatingConstructs?: { constructPath: string }[];
}

/** Reads cdk-nag's findings from the `validation-report.json` that synth wrote into `assemblyDir`. */
export function readNagReport(assemblyDir: string): NagReport {
  const file = JSON.parse(readFileSync(join(assemblyDir, 'validation-report.json'), 'utf8')) as ReportFile;
  const own = file.pluginReports.filter((p) => p.pluginName === NAG_PACK);
  const finding = (v: ReportViolation & { reason?: string }): NagFinding => ({
    rule: v.ruleName,
    severity: v.severity ?? 'error',
    paths: (v.violatingConstructs ?? []).map((c) => c.constructPath),
    ...(v.reason === undefined ? {} : { reason: v.reason }),
  });
  return {
    present: own.length > 0,
    violations: own.flatMap((p) => p.violations.map(finding)),
    suppressed: own.flatMap((p) => (p.suppressedViolations ?? []).map(finding)),
  };
}

/**
 * Writes the AwsSolutions acknowledgments that apply to each CloudFormation resource into its Metadata as
 * `cdk_nag: { rules_to_suppress: [{ id, reason }] }` (cdk-nag 2's format, ids without the namespace), so a
 * reviewer of the template sees them where they apply.
 */
class NagMetadataAspect implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    const prefix = `${NAG_PACK}::`;
    const rules = new Map<string, string>();
    for (let c: IConstruct | undefined = node; c !== undefined; c = c.node.scope) {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || typeof entry.data !== 'object')
          continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          if (id.startsWith(prefix) && !rules.has(id)) rules.set(id.slice(prefix.length), reason);
        }
      }
    }
    if (rules.size > 0) {
      node.addMetadata('cdk_nag', { rules_to_suppress: [...rules].map(([id, reason]) => ({ id, reason })) });
    }
  }
}
