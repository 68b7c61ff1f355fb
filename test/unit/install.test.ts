/**
 * The install works on every platform: `npm ci` installs exactly package-lock.json, and a package npm
 * left out of the lock (an optional per-platform binary it could not fetch when the lock was written)
 * makes `npm ci` refuse on every machine ("Missing: ... from lock file"). And what the code imports at
 * run time must be a production dependency, or `npm install --omit=dev` breaks it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/aws/lib/shardline-stack.ts';

interface LockedPackage {
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, LockedPackage>;
};
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The lock entry Node's resolution would find for `name` required from the package at `from`. */
function resolveLocked(from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (base === '') return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

describe('package-lock.json', () => {
  it('locks every optional dependency of every locked package, whatever the platform', () => {
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    const missing = Object.entries(lock.packages).flatMap(([path, meta]) =>
      Object.keys(meta.optionalDependencies ?? {})
        .filter((dep) => resolveLocked(path, dep) === undefined)
        .map((dep) => `${path || '(root)'} -> ${dep}`),
    );
    expect(missing).toEqual([]);
  });

  it('has the native packages of macOS, Windows, ARM Linux and musl', () => {
    for (const name of [
      '@biomejs/cli-darwin-arm64',
      '@biomejs/cli-win32-x64',
      '@biomejs/cli-linux-arm64',
      '@biomejs/cli-linux-x64-musl',
      '@duckdb/node-bindings-darwin-arm64',
      '@duckdb/node-bindings-win32-x64',
      '@duckdb/node-bindings-linux-arm64',
      '@duckdb/node-bindings-linux-arm64-musl',
      '@esbuild/darwin-arm64',
      '@esbuild/win32-x64',
      '@esbuild/linux-arm64',
    ]) {
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBeDefined();
    }
  });

  it('records the dependency ranges package.json declares (what npm ci checks first)', () => {
    const root = lock.packages[''];
    expect(root?.dependencies).toEqual(pkg.dependencies);
    expect(root?.devDependencies).toEqual(pkg.devDependencies);
  });
});

const SOURCE_DIRS = [
  'bench',
  'bin',
  'cli',
  'common',
  'dashboard',
  'infra',
  'processors',
  'producers',
  'queries',
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mjs)$/.test(entry) ? [path] : [];
  });
}

/** Bare module specifiers a file loads at run time (type-only imports and re-exports erased by tsc left out). */
function runtimeImports(source: string): string[] {
  const statements = source.matchAll(/^(import|export)\b(?!\s+type\b)[^;]*?[\s}*]from\s*'([^']+)'/gm);
  const dynamic = source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g);
  const sideEffect = source.matchAll(/^import\s+'([^']+)'/gm);
  return [...[...statements].map((m) => m[2]!), ...[...dynamic, ...sideEffect].map((m) => m[1]!)]
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtinModules.includes(s))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

describe('package.json', () => {
  it('declares every package the code loads at run time as a production dependency', () => {
    const offenders = SOURCE_DIRS.flatMap((d) => sourceFiles(join(REPO_ROOT, d))).flatMap((file) =>
      runtimeImports(readFileSync(file, 'utf8'))
        .filter((name) => pkg.dependencies[name] === undefined)
        .map((name) => `${file.slice(REPO_ROOT.length + 1)}: ${name}`),
    );
    expect(offenders).toEqual([]);
  });

  it('sees the imports it checks (esbuild, loaded on demand by the dashboard and /sdk.js)', () => {
    const dashboard = readFileSync(join(REPO_ROOT, 'dashboard', 'server.ts'), 'utf8');
    expect(runtimeImports(dashboard)).toContain('esbuild');
    expect(runtimeImports("import type { A } from 'aws-lambda';\nimport { b } from 'zod';")).toEqual(['zod']);
  });
});
