import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Modules of `processors/` that other areas may load: the public surface and the Lambda entry. */
const PUBLIC = new Set(['processors/index.ts', 'processors/handler.ts']);

/** Top-level folders that are not source of another area (or are the area itself, or its tests). */
const SKIP_TOP = new Set(['node_modules', 'processors', 'test', 'cdk.out', 'dist', 'coverage', 'scratch']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    const rel = relative(ROOT, p).split(sep).join('/');
    if (e.isDirectory()) {
      if (e.name.startsWith('.') || SKIP_TOP.has(rel) || rel === 'dashboard/public/vendor') return [];
      return sourceFiles(p);
    }
    return /\.(ts|mts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** Every module specifier a file loads: static imports, re-exports, side-effect and dynamic imports. */
function specifiers(source: string): string[] {
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
  return [...source.matchAll(re)].map((m) => m[1]!);
}

/** The `processors/` modules other than its public ones that `file` (repository-relative) loads. */
function privateProcessorImports(file: string, source: string): string[] {
  return specifiers(source)
    .filter((s) => s.startsWith('.'))
    .map((s) =>
      relative(ROOT, resolve(ROOT, dirname(file), s))
        .split(sep)
        .join('/'),
    )
    .filter((target) => target.startsWith('processors/') && !PUBLIC.has(target));
}

describe('processors/ public surface', () => {
  it('the check sees every import form (static, type, re-export, dynamic, multi-line)', () => {
    const src = [
      "import { a } from '../processors/core/state.ts';",
      "import type { B } from '../processors/adapters/items.ts';",
      'import {',
      '  c,',
      "} from '../processors/core/rollup.ts';",
      "export { d } from '../processors/core/fold.ts';",
      "const m = await import('../processors/processor.ts');",
      "import { e } from '../processors/index.ts';",
      "import { f } from '../processors/handler.ts';",
      "import { g } from '../common/config.ts';",
    ].join('\n');
    expect(privateProcessorImports('queries/x.ts', src)).toEqual([
      'processors/core/state.ts',
      'processors/adapters/items.ts',
      'processors/core/rollup.ts',
      'processors/core/fold.ts',
      'processors/processor.ts',
    ]);
  });

  it('outside processors/ and test/, code imports processors/ only through index.ts (or the Lambda entry)', () => {
    const files = sourceFiles(ROOT);
    // The walk reaches the areas that use the processors (guards against a walk that finds nothing).
    expect(files.map((f) => relative(ROOT, f).split(sep)[0])).toEqual(
      expect.arrayContaining(['queries', 'dashboard', 'cli', 'infra', 'bench']),
    );
    const offenders = files.flatMap((f) => {
      const rel = relative(ROOT, f).split(sep).join('/');
      return privateProcessorImports(rel, readFileSync(f, 'utf8')).map((t) => `${rel} -> ${t}`);
    });
    expect(offenders).toEqual([]);
  });

  it('test helpers use the public surface too', () => {
    const dir = join(ROOT, 'test', 'helpers');
    const offenders = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => {
        const rel = `test/helpers/${f.split(sep).join('/')}`;
        return privateProcessorImports(rel, readFileSync(join(ROOT, rel), 'utf8')).map(
          (t) => `${rel} -> ${t}`,
        );
      });
    expect(offenders).toEqual([]);
  });
});
