/**
 * `shardline produce`: paced synthetic load onto the stream.
 */
import type { Command } from 'commander';
import { type ClientOptions, kinesisClient } from '../../common/aws.ts';
import { UsageError } from '../../common/errors.ts';
import { deviceMapping } from '../../common/iot.ts';
import { findRunningCloud, localClientOptions } from '../../infra/local/connect.ts';
import { type FleetProgress, produceOverMqtt } from '../../producers/iot/index.ts';
import { type ProduceProgress, type ProduceReport, produce } from '../../producers/produce.ts';
import { cliEnvironment } from '../env.ts';
import { loadConfig, parseIntOption, printJson, withCommonOptions } from '../shared.ts';
import { resolveAwsTarget, type TargetName, withTargetOptions } from '../target.ts';

interface ProduceFlags {
  scenario: string;
  rate: number;
  duration: number;
  count?: number;
  devices?: number;
  seed: number;
  kpl?: boolean;
  injectDuplicates: number;
  injectInvalid: number;
  stream?: string;
  via: string;
  mqttUrl?: string;
  json?: boolean;
  config?: string;
  dataDir: string;
  target?: TargetName;
  stack?: string;
}

function parseProbability(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
      throw new UsageError(`${name} must be a number between 0 and 1; got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

function parsePositive(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) {
      throw new UsageError(
        `${name} must be a number greater than 0 and at most ${max}; got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

/**
 * The Kinesis client options of the running local cloud of `dataDir`, unless `AWS_ENDPOINT_URL_KINESIS` is
 * set (`kinesisEndpoint`), which wins: then the SDK reads it itself, and this returns undefined.
 */
export async function localKinesisOptions(
  dataDir: string,
  kinesisEndpoint: string | undefined,
): Promise<ClientOptions | undefined> {
  if (kinesisEndpoint) return undefined;
  const cloud = await findRunningCloud(dataDir);
  return cloud ? localClientOptions(cloud, 'kinesis') : undefined;
}

/** One progress line. */
export function formatProgress(p: ProduceProgress): string {
  const secs = p.elapsedMs / 1000;
  const of = p.total === null ? '' : `/${p.total}`;
  return `produced ${p.emitted}${of}  sent ${p.sent}  retried ${p.retried}  failed ${p.failed}  ${(p.sent / Math.max(secs, 0.001)).toFixed(0)}/s  ${secs.toFixed(1)}s`;
}

/** The final report as text. */
export function formatReport(r: ProduceReport): string {
  return [
    `scenario ${r.scenario} -> stream ${r.stream} (seed ${r.seed}${r.kpl ? ', KPL' : ''})${r.aborted ? ' [interrupted]' : ''}`,
    `emitted   ${r.emitted} (${r.events} events, ${r.duplicates} duplicates, ${r.invalid} invalid)`,
    `accepted  ${r.accepted}`,
    `sent      ${r.sent} in ${r.requests} requests, ${r.bytes} bytes`,
    `retried   ${r.retried} (${r.throttled} throttled)`,
    `failed    ${r.failed}`,
    `rate      ${r.rateAchieved} records/s over ${(r.durationMs / 1000).toFixed(1)} s`,
  ].join('\n');
}

export function register(program: Command): void {
  withTargetOptions(
    withCommonOptions(
      program
        .command('produce')
        .description('send synthetic events (IoT fleet or web sessions) to the stream at a steady rate')
        .option('--scenario <name>', 'iot or web', 'iot')
        .option('--rate <n>', 'events per second', parsePositive('--rate', 1_000_000), 100)
        .option(
          '--duration <s>',
          'seconds to run (0: until Ctrl-C)',
          (v: string) => (v === '0' ? 0 : parsePositive('--duration', 604_800)(v)),
          10,
        )
        .option(
          '--count <n>',
          'records to send instead of a duration',
          parseIntOption('--count', 1, 100_000_000),
        )
        .option(
          '--devices <n>',
          'IoT devices (iot) or concurrent sessions (web)',
          parseIntOption('--devices', 1, 100_000),
        )
        .option('--seed <n>', 'seed of the synthetic data', parseIntOption('--seed', 0, 2 ** 32 - 1), 1)
        .option('--no-kpl', 'send one Kinesis record per event instead of KPL aggregates (the default)')
        .option(
          '--inject-duplicates <p>',
          'probability a record re-sends an earlier event',
          parseProbability('--inject-duplicates'),
          0,
        )
        .option(
          '--inject-invalid <p>',
          'probability a record is malformed',
          parseProbability('--inject-invalid'),
          0,
        )
        .option('--stream <name>', 'stream name (default: from the config)')
        .option(
          '--via <path>',
          'kinesis (PutRecords) or mqtt (each device publishes to its topic)',
          'kinesis',
        )
        .option('--mqtt-url <url>', "broker for --via mqtt (default: the running local cloud's mqttUrl)")
        .option('--json', 'print the report as JSON'),
    ),
  ).action(async (flags: ProduceFlags) => {
    if (flags.scenario !== 'iot' && flags.scenario !== 'web') {
      throw new UsageError(`--scenario must be one of iot, web; got ${JSON.stringify(flags.scenario)}`);
    }
    if (flags.via !== 'kinesis' && flags.via !== 'mqtt') {
      throw new UsageError(`--via must be one of kinesis, mqtt; got ${JSON.stringify(flags.via)}`);
    }
    if (flags.via === 'mqtt') return produceViaMqtt(flags);
    const loaded = await loadConfig(flags.config);
    // --target aws: the deployed stack's stream and region (its outputs); local: the running `up`'s endpoints.
    const config = flags.target === 'aws' ? (await resolveAwsTarget(loaded, flags)).config : loaded;
    const env = cliEnvironment();
    const local =
      flags.target === 'aws' ? undefined : await localKinesisOptions(flags.dataDir, env.endpoints.kinesis);
    if (flags.target !== 'aws' && local === undefined && env.endpoints.kinesis === undefined) {
      throw new UsageError(
        `no local cloud runs in ${flags.dataDir} (no cloud.json, no AWS_ENDPOINT_URL_KINESIS): start \`shardline up\` with the same --data-dir, or pass --target aws`,
      );
    }
    const region = flags.target === 'aws' ? config.region : (local?.region ?? env.region ?? config.region);
    const client = local === undefined ? undefined : kinesisClient(local);
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const tty = process.stderr.isTTY === true && flags.json !== true;
    try {
      const { report } = await produce({
        streamName: flags.stream ?? config.stream.name,
        region,
        ...(client === undefined ? {} : { client }),
        scenario: flags.scenario,
        rate: flags.rate,
        ...(flags.count !== undefined
          ? { count: flags.count }
          : flags.duration > 0
            ? { durationSeconds: flags.duration }
            : {}),
        ...(flags.devices === undefined
          ? {}
          : flags.scenario === 'web'
            ? { sessions: flags.devices }
            : { devices: flags.devices }),
        seed: flags.seed,
        kpl: flags.kpl !== false,
        duplicateRate: flags.injectDuplicates,
        invalidRate: flags.injectInvalid,
        collect: false,
        signal: controller.signal,
        ...(tty
          ? { onProgress: (p: ProduceProgress) => process.stderr.write(`\r${formatProgress(p)}\x1b[K`) }
          : {}),
      });
      if (tty) process.stderr.write('\n');
      if (flags.json) printJson(report);
      else process.stdout.write(`${formatReport(report)}\n`);
      if (report.failed > 0) process.exitCode = 1;
    } finally {
      client?.destroy();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });
}

/** The fleet over MQTT: each synthetic device connects and publishes to its own topic. */
async function produceViaMqtt(flags: ProduceFlags): Promise<void> {
  if (flags.scenario !== 'iot') {
    throw new UsageError(`--via mqtt sends the iot scenario (devices); got --scenario ${flags.scenario}`);
  }
  if (flags.target === 'aws' && flags.mqttUrl === undefined) {
    throw new UsageError(
      '--via mqtt --target aws: IoT Core devices connect with their own certificates; register them (README "Devices over MQTT") and pass --mqtt-url',
    );
  }
  const config = await loadConfig(flags.config);
  const url = flags.mqttUrl ?? (await findRunningCloud(flags.dataDir))?.mqttUrl ?? undefined;
  if (!url) {
    throw new UsageError(
      `no MQTT broker: no local cloud with a broker runs in ${flags.dataDir}; start \`shardline up\` with the same --data-dir, or pass --mqtt-url`,
    );
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = process.stderr.isTTY === true && flags.json !== true;
  try {
    const { report } = await produceOverMqtt({
      url,
      mapping: deviceMapping(config.iot),
      rate: flags.rate,
      ...(flags.count !== undefined
        ? { count: flags.count }
        : flags.duration > 0
          ? { durationSeconds: flags.duration }
          : {}),
      ...(flags.devices === undefined ? {} : { devices: flags.devices }),
      seed: flags.seed,
      duplicateRate: flags.injectDuplicates,
      invalidRate: flags.injectInvalid,
      collect: false,
      signal: controller.signal,
      device: {
        onDrop: (d) => process.stderr.write(`dropped a message: ${d.reason}\n`),
      },
      ...(tty
        ? {
            onProgress: (p: FleetProgress) =>
              process.stderr.write(
                `\rproduced ${p.emitted}${p.total === null ? '' : `/${p.total}`}  acked ${p.sent}  dropped ${p.dropped}  ${(p.elapsedMs / 1000).toFixed(1)}s\x1b[K`,
              ),
          }
        : {}),
    });
    if (tty) process.stderr.write('\n');
    if (flags.json) printJson(report);
    else {
      process.stdout.write(
        `${[
          `scenario iot -> ${report.url} over MQTT, ${report.devices} devices (seed ${report.seed})${report.aborted ? ' [interrupted]' : ''}`,
          `emitted   ${report.emitted} (${report.events} events, ${report.duplicates} duplicates, ${report.invalid} invalid)`,
          `acked     ${report.sent} (QoS 1 PUBACK)`,
          `failed    ${report.failed} (dropped or refused)`,
          `reconnect ${report.reconnects}`,
          `rate      ${report.rateAchieved} records/s over ${(report.durationMs / 1000).toFixed(1)} s`,
        ].join('\n')}\n`,
      );
    }
    if (report.failed > 0) process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
