import { createRequire } from 'node:module';
import type { Command } from 'commander';

export function register(program: Command): void {
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  program.version(pkg.version, '-V, --version', 'print the version');
}
