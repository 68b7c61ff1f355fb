/**
 * Entry point of the `shardline` CLI. Each file in `cli/commands/` registers one sub-command.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ShardlineError } from '../common/errors.ts';

export interface CommandModule {
  register(program: Command): void;
}

/** Builds the program with every command in `cli/commands/`. Exposed for tests. */
export async function buildProgram(): Promise<Command> {
  const program = new Command('shardline')
    .description(
      'Exactly-once stream analytics: Kinesis -> Lambda -> DynamoDB, archived by Firehose for Athena.',
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as Partial<CommandModule>;
    if (typeof mod.register === 'function') mod.register(program);
  }
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end with 0; every parse error (unknown option, bad choice, missing argument)
      // is a usage error, which the CLI reports with 2 like its own UsageError.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ShardlineError) {
      process.stderr.write(`shardline: ${err.message}\n`);
      return err.code === 'USAGE' ? 2 : 1;
    }
    process.stderr.write(`shardline: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
