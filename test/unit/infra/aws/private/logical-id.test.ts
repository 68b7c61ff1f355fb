import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  logicalIdPath,
  makeLogicalId,
  ResourceGroup,
} from '../../../../../infra/aws/lib/private/logical-id.ts';

/** A stack that allocates logical IDs with our function instead of CDK's. */
class GroupedStack extends Stack {
  protected override allocateLogicalId(element: CfnResource): string {
    return makeLogicalId(logicalIdPath(element, this));
  }
}

// Construct ids as people write them, plus the special ones CDK's rule treats differently.
const arbId = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9:_-]{0,20}$/),
  fc.constantFrom('Resource', 'Default', 'Default1', 'Policy', 'DefaultPolicy', 'Role', 'ServiceRole'),
);

describe('makeLogicalId', () => {
  it("agrees with the logical ID CDK's own Stack gives the same construct path", () => {
    fc.assert(
      fc.property(fc.array(arbId, { minLength: 1, maxLength: 5 }), (path) => {
        fc.pre(path.some((c) => c !== 'Default'));
        // GIVEN a construct at `path` in a plain CDK stack
        const stack = new Stack(new App(), 'S');
        let scope: Construct = stack;
        for (const id of path.slice(0, -1)) scope = new Construct(scope, id);
        const resource = new CfnResource(scope, path[path.length - 1]!, { type: 'Test::Thing' });
        // WHEN/THEN our function computes the same ID CDK allocated
        expect(makeLogicalId(path)).toBe(stack.resolve(resource.logicalId));
      }),
    );
  });

  it('uses a single short component as it is, and rejects a path of only hidden ids', () => {
    expect(makeLogicalId(['Work-Group'])).toBe('WorkGroup');
    expect(() => makeLogicalId(['Default'])).toThrow(/at least one path component; received none/);
  });
});

describe('ResourceGroup', () => {
  it('leaves its id out of its children’s logical IDs, at any depth', () => {
    // GIVEN the same resources once directly under a stack and once inside (nested) groups
    const flat = new Stack(new App(), 'S');
    const grouped = new GroupedStack(new App(), 'S');
    const outer = new ResourceGroup(grouped, 'Outer');
    const inner = new ResourceGroup(outer, 'Inner');
    const pairs = [
      [new CfnResource(flat, 'Bucket', { type: 'T' }), new CfnResource(outer, 'Bucket', { type: 'T' })],
      [
        new CfnResource(new Construct(flat, 'Role'), 'Resource', { type: 'T' }),
        new CfnResource(new Construct(inner, 'Role'), 'Resource', { type: 'T' }),
      ],
    ] as const;
    // THEN each grouped resource has the logical ID of its flat twin
    for (const [a, b] of pairs) expect(grouped.resolve(b.logicalId)).toBe(flat.resolve(a.logicalId));
    // AND a plain Construct still contributes its id
    expect(grouped.resolve(pairs[1][1].logicalId)).toMatch(/^Role[0-9A-F]{8}$/);
  });
});
