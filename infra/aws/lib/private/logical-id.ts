/**
 * Grouping constructs that do not change CloudFormation logical IDs.
 *
 * CDK derives a resource's logical ID from its construct path. Moving resources from the stack into a
 * construct that groups them by responsibility would rename every one of them, and CloudFormation treats a
 * renamed resource as a new one: it creates the new resource (failing on named ones such as the delivery
 * streams and the Glue database, whose names are taken) and deletes the old (losing retained data from the
 * stack). A {@link ResourceGroup} is left out of the path its children's logical IDs are computed from, so
 * the split keeps every deployed resource where it is.
 */
import { createHash } from 'node:crypto';
import type { CfnElement } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';
import { ConfigError } from '../../../../common/errors.ts';

/**
 * A construct whose own id is not part of its children's logical IDs: a child `Archive` of a group
 * gets the logical ID it would have as a child of the stack. Children of sibling groups must therefore
 * not share an id (the stack checks that when it allocates the IDs).
 */
export class ResourceGroup extends Construct {}

/** The construct ids that make up `element`'s logical ID: its path below `stack`, groups left out. */
export function logicalIdPath(element: CfnElement, stack: IConstruct): string[] {
  const scopes = element.node.scopes;
  return scopes
    .slice(scopes.indexOf(stack) + 1)
    .filter((s) => !(s instanceof ResourceGroup))
    .map((s) => s.node.id);
}

const HIDDEN_ID = 'Default';
const HIDDEN_FROM_HUMAN_ID = 'Resource';
const HASH_LEN = 8;
const MAX_HUMAN_LEN = 240;
const MAX_ID_LEN = 255;

const alphanumeric = (s: string): string => s.replace(/[^A-Za-z0-9]/g, '');

/**
 * CDK's logical ID of a construct path (`makeUniqueId` in aws-cdk-lib's core, which it does not export):
 * `Default` components are dropped; a single component is used as it is; otherwise the human-readable
 * components (consecutive duplicates and `Resource` removed, non-alphanumerics stripped, at most 240
 * characters) followed by the first 8 hex digits, upper-case, of the MD5 of the path joined by `/`.
 */
export function makeLogicalId(path: readonly string[]): string {
  const components = path.filter((c) => c !== HIDDEN_ID);
  if (components.length === 0) {
    throw new ConfigError('a logical ID needs at least one path component; received none');
  }
  if (components.length === 1) {
    const candidate = alphanumeric(components[0]!);
    if (candidate.length <= MAX_ID_LEN) return candidate;
  }
  const hash = createHash('md5').update(components.join('/')).digest('hex').slice(0, HASH_LEN).toUpperCase();
  const human: string[] = [];
  for (const c of components) {
    if (human.length === 0 || !human[human.length - 1]!.endsWith(c)) human.push(c);
  }
  return (
    human
      .filter((c) => c !== HIDDEN_FROM_HUMAN_ID)
      .map(alphanumeric)
      .join('')
      .slice(0, MAX_HUMAN_LEN) + hash
  );
}
