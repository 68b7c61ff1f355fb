#!/usr/bin/env node
// The `shardline` command. Runs the TypeScript sources directly through tsx, so a fresh clone needs no
// build step: `npm install && npx shardline --help`.
import { register } from 'tsx/esm/api';

// The AWS SDK warns once per process that its 2027 releases will need Node 22; the CLI supports Node
// 20.19+ until then, so keep that notice out of users' terminals and JSON output (its own switch).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `shardline query ... | head` closes stdout early: that is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
