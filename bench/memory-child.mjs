// Runs only the bundled processor handler on one Lambda event file, then prints its peak RSS as JSON.
// Usage: node memory-child.mjs <bundle.mjs> <event.json>
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(bundle).href);
const before = process.resourceUsage().maxRSS;
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const res = await handler(event);
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
process.stdout.write(
  `${JSON.stringify({
    failures: res.batchItemFailures.length,
    startRssKb: before,
    maxRssKb: process.resourceUsage().maxRSS,
    vmHwmKb: hwm ? Number(hwm[1]) : null,
  })}\n`,
);
