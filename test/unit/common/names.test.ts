import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../common/config.ts';
import { DEFAULT_STACK_NAME, namesForStack, stackNamePrefix } from '../../../common/names.ts';

const physical = (c: ReturnType<typeof resolveConfig>) => [
  c.stream.name,
  c.table.name,
  c.archive.deliveryStreamName,
  c.quarantine.deliveryStreamName,
  c.athena.database,
  c.athena.workgroup,
];

describe('namesForStack', () => {
  it('keeps the config names under the default stack name', () => {
    const config = resolveConfig();
    expect(namesForStack(config, DEFAULT_STACK_NAME)).toBe(config);
    expect(namesForStack(config)).toBe(config);
  });

  it('derives every default physical name from another stack name', () => {
    const staging = namesForStack(resolveConfig(), 'Staging');
    expect(physical(staging)).toEqual([
      'staging-events',
      'staging-aggregates',
      'staging-archive',
      'staging-quarantine',
      'staging',
      'staging',
    ]);
    expect(staging.archive.bucket).toBe('staging-archive');
    expect(namesForStack(resolveConfig(), 'Blue-Green2').athena.database).toBe('blue_green2');
  });

  it('keeps a name the config sets', () => {
    const c = namesForStack(resolveConfig({ stream: { name: 'my-stream' } }), 'Staging');
    expect(c.stream.name).toBe('my-stream');
    expect(c.table.name).toBe('staging-aggregates');
  });

  it('gives two stacks no physical name in common, each valid for the config (property)', () => {
    const arbStack = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,40}$/);
    fc.assert(
      fc.property(arbStack, arbStack, (a, b) => {
        fc.pre(stackNamePrefix(a) !== stackNamePrefix(b));
        fc.pre(
          ![a, b].includes(DEFAULT_STACK_NAME) &&
            stackNamePrefix(a) !== 'shardline' &&
            stackNamePrefix(b) !== 'shardline',
        );
        const [x, y] = [namesForStack(resolveConfig(), a), namesForStack(resolveConfig(), b)];
        const shared = physical(x).filter((n) => physical(y).includes(n));
        expect(shared).toEqual([]);
        // each derived name passes the config's own rules
        for (const c of [x, y]) {
          expect(() =>
            resolveConfig({
              stream: { name: c.stream.name },
              table: { name: c.table.name },
              archive: { bucket: c.archive.bucket, deliveryStreamName: c.archive.deliveryStreamName },
              quarantine: { deliveryStreamName: c.quarantine.deliveryStreamName },
              athena: { database: c.athena.database, workgroup: c.athena.workgroup },
            }),
          ).not.toThrow();
        }
      }),
    );
  });

  it('says which name a too long stack name breaks, and rejects a name that is no stack name', () => {
    expect(() => namesForStack(resolveConfig(), `S${'x'.repeat(60)}`)).toThrow(
      /stack name "Sx+" makes the .* ".*", longer than 6[34] characters; set it in the config/,
    );
    expect(() => stackNamePrefix('---')).toThrow(/stack name must start with a letter/);
  });
});
