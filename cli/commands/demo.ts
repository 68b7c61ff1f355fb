/**
 * `shardline demo` (what `npm start` runs): the whole pipeline on this machine. Starts the local cloud,
 * produces a synthetic IoT fleet's telemetry (and a website's events) with live progress, drains until
 * everything produced is processed and archived, prints a summary and reconciles every aggregate with the
 * archive. `--via mqtt` sends the fleet as devices do, each publishing to its topic on the local MQTT broker
 * (the device rule puts it on the stream); the website stays on Kinesis PutRecords.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { dynamodbClient, kinesisClient } from '../../common/aws.ts';
import { UsageError } from '../../common/errors.ts';
import { deviceMapping } from '../../common/iot.ts';
import type { FleetReport } from '../../producers/iot/index.ts';
import { prepareDataDir } from '../data-dir.ts';
import { cliEnvironment, externalEndpoints } from '../env.ts';
import { findRunningCloud } from '../local.ts';
import { loadConfig, parseIntOption, withCommonOptions } from '../shared.ts';

/** How the demo's IoT fleet reached the stream. */
export type DemoPath = 'kinesis' | 'mqtt';

export interface DemoSummary {
  ok: boolean;
  /** The IoT fleet's path: Kinesis PutRecords, or the local MQTT broker and its device rule. */
  via: DemoPath;
  produced: number;
  aggregated: number;
  quarantined: number;
  late: number;
  /** Records in the archive: raw objects plus Firehose's conversion-error output. */
  archived: number;
  /** Of those, records Firehose could not convert (under errors/). */
  archiveErrors: number;
  aggregateItems: number;
  shards: number;
  dataDir: string;
  durationSeconds: number;
  rateAchieved: number;
  archive: { dir: string; format: string; files: number };
  reconcile: { ok: boolean; rollupsChecked: number; windowsChecked: number; drifts: unknown[] };
  conservation: { ok: boolean; equation: string };
  /**
   * With `--via mqtt`: what the fleet published (acknowledged by the broker), what the web scenario put on
   * Kinesis, and the local device rule's counters (`cloud.stats().mqtt.rule`).
   */
  mqtt?: {
    url: string;
    devices: number;
    published: number;
    webPutRecords: number;
    matched: number;
    forwarded: number;
    /** Messages the rule rejected or could not deliver, quarantined with shard `mqtt`. */
    quarantinedByRule: number;
  };
  /** With `--chaos`: what was injected and what the event source mapping observed. */
  faults?: import('../../infra/local/chaos/index.ts').FaultSummary;
}

const fmt = (n: number) => n.toLocaleString('en-US');

export function register(program: Command): void {
  withCommonOptions(
    program
      .command('demo')
      .description(
        'run the whole pipeline locally: produce, process, archive, then reconcile (what `npm start` runs)',
      ),
  )
    .option(
      '--duration <s>',
      'seconds to produce (default: until Ctrl-C)',
      parseIntOption('--duration', 1, 86_400),
    )
    .option('--rate <n>', 'events per second', parseIntOption('--rate', 1, 100_000), 500)
    .option('--devices <n>', 'IoT devices in the fleet', parseIntOption('--devices', 1, 100_000), 200)
    .option('--seed <n>', 'seed of the synthetic fleet', parseIntOption('--seed'), 1)
    .option(
      '--via <path>',
      "the IoT fleet's path: kinesis (PutRecords) or mqtt (each device publishes to the local broker)",
      'kinesis',
    )
    .option('--summary-json <file>', 'also write the summary as JSON to this file')
    .option(
      '--inject-invalid <p>',
      'share of malformed records mixed in, to show quarantine at work (0-1)',
      (v: string) => {
        const n = Number(v);
        if (v.trim() === '' || !(n >= 0 && n <= 1))
          throw new UsageError(`--inject-invalid must be between 0 and 1; got ${JSON.stringify(v)}`);
        return n;
      },
      0.002,
    )
    .option('--no-dashboard', 'do not serve the dashboard')
    .option('--port <n>', 'dashboard port (default: a free one)', parseIntOption('--port', 0, 65_535), 0)
    .option('--keep-data', 'keep what an earlier demo left in the data dir (default: start clean)')
    .option('--json', 'print the summary as JSON on stdout')
    .option(
      '--emulator-threads',
      'run kinesalite and dynalite on worker threads (about twice the throughput at high rates)',
    )
    .option(
      '--chaos',
      'inject faults (seeded by --seed): handler errors, timeouts, throttling, duplicates, a split and a merge',
    )
    .action(
      async (opts: {
        config?: string;
        dataDir: string;
        duration?: number;
        rate: number;
        devices: number;
        seed: number;
        via: string;
        summaryJson?: string;
        keepData?: boolean;
        emulatorThreads?: boolean;
        injectInvalid: number;
        dashboard?: boolean;
        port?: number;
        json?: boolean;
        chaos?: boolean;
      }) => {
        if (opts.via !== 'kinesis' && opts.via !== 'mqtt') {
          throw new UsageError(`--via must be one of kinesis, mqtt; got ${JSON.stringify(opts.via)}`);
        }
        const via: DemoPath = opts.via;
        const loaded = await loadConfig(opts.config);
        const { ChaosRun } = await import('../../infra/local/chaos/index.ts');
        const chaos = opts.chaos ? new ChaosRun(loaded, { seed: opts.seed }) : undefined;
        const config = chaos?.config ?? loaded;
        const dataDir = resolve(opts.dataDir);
        const running = await findRunningCloud(dataDir);
        if (running) {
          throw new UsageError(
            `a local cloud already runs in ${dataDir} (pid ${running.pid ?? '?'}); stop it or pass --data-dir`,
          );
        }
        prepareDataDir(dataDir, opts.keepData ?? false);
        const tty = process.stderr.isTTY === true;
        const say = (line: string) => process.stderr.write(`${line}\n`);
        const { LocalCloud } = await import('../../infra/local/index.ts');
        const { iotScenario, mixedScenario, produce, webScenario } = await import('../../producers/index.ts');
        const { verifyPipeline } = await import('../../queries/verify.ts');

        const { verbose } = cliEnvironment();
        say(`Starting the local cloud in ${dataDir} (${config.stream.shardCount} shards)...`);
        const external = externalEndpoints();
        for (const [service, endpoint] of Object.entries(external)) {
          say(`Using your ${service} at ${endpoint} (AWS_ENDPOINT_URL_${service.toUpperCase()})`);
        }
        const cloud = await LocalCloud.start({
          config,
          dataDir,
          external,
          log: (l) => (verbose ? say(l) : undefined),
          emulatorThreads: opts.emulatorThreads ?? false,
          ...chaos?.cloudOptions(),
        });
        const clients = {
          kinesis: kinesisClient(cloud.clientOptions('kinesis')),
          dynamodb: dynamodbClient(cloud.clientOptions('dynamodb')),
        };
        let dashboard: { url: string; close(): Promise<void> } | undefined;
        if (opts.dashboard !== false) {
          const { startDashboard } = await import('../../dashboard/index.ts');
          dashboard = await startDashboard({
            config,
            dataDir,
            target: 'local',
            port: opts.port ?? 0,
            clients,
          });
          say(`Dashboard: ${dashboard.url}`);
        }
        const startedAt = Date.now();
        if (chaos) {
          say(`Chaos: injecting faults with seed ${opts.seed}...`);
          chaos.startResharding(
            cloud.clientOptions('kinesis'),
            opts.duration ? opts.duration * 1000 : undefined,
          );
        }
        const abort = new AbortController();
        let interrupts = 0;
        const onSignal = () => {
          interrupts++;
          if (interrupts === 1) {
            say('\nStopping the producer; draining the pipeline (Ctrl-C again to quit at once)...');
            abort.abort();
          } else process.exit(130);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          say(
            opts.duration
              ? `Producing ${fmt(opts.rate)} events/s from ${fmt(opts.devices)} devices for ${opts.duration} s...`
              : `Producing ${fmt(opts.rate)} events/s from ${fmt(opts.devices)} devices; Ctrl-C to stop and reconcile...`,
          );
          let lastLine = 0;
          const showProgress = (p: {
            sent: number;
            total: number | null;
            failed: number;
            elapsedMs: number;
          }) => {
            const now = Date.now();
            if (!tty && now - lastLine < 5_000 && p.total !== p.sent + p.failed) return;
            lastLine = now;
            const stats = cloud.stats();
            // Kinesis records: with KPL aggregation (the default) one holds many events. Firehose
            // deaggregates, so the archive counts events.
            const processed = (stats.esm ?? []).reduce((a, s) => a + s.recordsDelivered, 0);
            const archived = stats.firehose?.recordsDelivered ?? 0;
            // Firehose holds records until its buffer fills or its interval passes (60 s by default).
            const buffered = Math.max(0, (stats.firehose?.recordsRead ?? 0) - archived);
            const behind = Math.max(0, ...(stats.esm ?? []).map((s) => s.millisBehindLatest ?? 0));
            const line =
              `produced ${fmt(p.sent)}${p.total ? `/${fmt(p.total)}` : ''} (${fmt(Math.round((p.sent * 1000) / Math.max(1, p.elapsedMs)))}/s)` +
              ` | processed ${fmt(processed)} Kinesis records | archived ${fmt(archived)} events (+${fmt(buffered)} buffering) | behind ${(behind / 1000).toFixed(1)}s` +
              (p.failed ? ` | FAILED ${fmt(p.failed)}` : '');
            process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
          };
          const fleet = iotScenario({
            seed: opts.seed,
            devices: opts.devices,
            lateRate: 0.01,
            offlineRate: 0.02,
          });
          const web = webScenario({ seed: opts.seed + 1, sessions: 60 });
          const durationOpt = opts.duration ? { durationSeconds: opts.duration } : {};
          let result: { produced: number; failed: number; rateAchieved: number };
          let fleetReport: FleetReport | undefined;
          let webSent = 0;
          if (via === 'kinesis') {
            const { report } = await produce({
              client: clients.kinesis,
              streamName: config.stream.name,
              rate: opts.rate,
              devices: opts.devices,
              seed: opts.seed,
              scenario: mixedScenario(
                [
                  { scenario: fleet, weight: 4 },
                  { scenario: web, weight: 1 },
                ],
                opts.seed,
              ),
              invalidRate: opts.injectInvalid,
              collect: false,
              signal: abort.signal,
              ...durationOpt,
              progressIntervalMs: 500,
              onProgress: (p) => showProgress({ ...p, total: p.total }),
            });
            result = { produced: report.sent, failed: report.failed, rateAchieved: report.rateAchieved };
          } else {
            // The same 4:1 mix as over Kinesis, as two paced producers: the fleet over MQTT, the website
            // (browsers, not devices) on PutRecords.
            const mqttUrl = cloud.mqtt?.url;
            if (!mqttUrl) throw new UsageError('--via mqtt: the local cloud runs no MQTT broker');
            const { produceOverMqtt } = await import('../../producers/iot/index.ts');
            const webRate = opts.rate / 5;
            const fleetRate = opts.rate - webRate;
            const last = {
              fleet: { sent: 0, failed: 0, total: null as number | null },
              web: { sent: 0, failed: 0, total: null as number | null },
            };
            const sum = (elapsedMs: number) =>
              showProgress({
                sent: last.fleet.sent + last.web.sent,
                failed: last.fleet.failed + last.web.failed,
                total:
                  last.fleet.total === null || last.web.total === null
                    ? null
                    : last.fleet.total + last.web.total,
                elapsedMs,
              });
            // What the two producers share: the run's length, invalid share, abort and progress pace.
            const shared = {
              invalidRate: opts.injectInvalid,
              collect: false,
              signal: abort.signal,
              ...durationOpt,
              progressIntervalMs: 500,
            } as const;
            const [f, w] = await Promise.all([
              produceOverMqtt({
                url: mqttUrl,
                mapping: deviceMapping(config.iot),
                scenario: fleet,
                rate: fleetRate,
                devices: opts.devices,
                seed: opts.seed,
                ...shared,
                onProgress: (p) => {
                  last.fleet = { sent: p.sent, failed: p.dropped, total: p.total };
                  sum(p.elapsedMs);
                },
              }),
              produce({
                client: clients.kinesis,
                streamName: config.stream.name,
                rate: webRate,
                seed: opts.seed + 1,
                scenario: web,
                ...shared,
                onProgress: (p) => {
                  last.web = { sent: p.sent, failed: p.failed, total: p.total };
                  sum(p.elapsedMs);
                },
              }),
            ]);
            fleetReport = f.report;
            webSent = w.report.sent;
            const produced = f.report.sent + w.report.sent;
            const ms = Math.max(f.report.durationMs, w.report.durationMs);
            result = {
              produced,
              failed: f.report.failed + w.report.failed,
              rateAchieved: Math.round((produced * 1000 * 10) / ms) / 10,
            };
          }
          if (tty) process.stderr.write('\n');
          await chaos?.finishResharding();
          say('Draining: waiting until every record is processed and archived...');
          // Tumbling windows are ended so what they carry (onClose rollups, hourly windows) is written before
          // the reconcile.
          await cloud.drain({ timeoutMs: 300_000, closeWindows: true });

          const lateness = config.processing.allowedLatenessSeconds * 1000;
          say('Reconciling every rollup with the archive (DuckDB over the Parquet files)...');
          const produced = result.produced;
          const verdict = await verifyPipeline({
            config,
            dataDir,
            clients,
            produced,
            failed: result.failed,
            from: startedAt - lateness,
            to: Date.now() + config.processing.maxFutureSkewSeconds * 1000,
          });
          const { status, reconcile: rec } = verdict;
          const summary: DemoSummary = {
            ok: false,
            via,
            produced,
            aggregated: status.totals.aggregated,
            quarantined: status.totals.quarantined,
            late: status.totals.late,
            archived: verdict.archived,
            archiveErrors: verdict.archiveErrors,
            aggregateItems: verdict.aggregateItems,
            shards: status.shards.length,
            dataDir,
            durationSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
            rateAchieved: result.rateAchieved,
            archive: {
              dir: join(cloud.archiveDir, 'raw'),
              format: config.archive.format,
              files: verdict.archiveFiles,
            },
            reconcile: {
              ok: rec.ok,
              rollupsChecked: rec.rollupsChecked,
              windowsChecked: rec.windowsChecked,
              drifts: rec.drifts,
            },
            conservation: verdict.conservation,
          };
          const rule = cloud.stats().mqtt?.rule;
          if (fleetReport && cloud.mqtt) {
            summary.mqtt = {
              url: cloud.mqtt.url,
              devices: fleetReport.devices,
              published: fleetReport.sent,
              webPutRecords: webSent,
              matched: rule?.matched ?? 0,
              forwarded: rule?.forwarded ?? 0,
              quarantinedByRule: verdict.ruleQuarantined,
            };
          }
          if (chaos) summary.faults = chaos.summary(cloud.stats().esm ?? []);
          summary.ok =
            verdict.ok && (summary.faults === undefined || summary.faults.observed.onFailure === 0);
          if (opts.summaryJson) writeFileSync(opts.summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
          if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          else printSummary(summary);
          process.exitCode = summary.ok ? 0 : 1;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await dashboard?.close();
          clients.kinesis.destroy();
          clients.dynamodb.destroy();
          await cloud.stop();
          chaos?.close();
        }
      },
    );
}

function printSummary(s: DemoSummary): void {
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISMATCH');
  const lines = [
    '',
    `Shardline demo: ${s.ok ? 'everything reconciles' : 'SOMETHING DOES NOT ADD UP'}`,
    `  produced       ${fmt(s.produced)} events in ${s.durationSeconds} s (${fmt(Math.round(s.rateAchieved))}/s) over ${s.shards} shards`,
    s.mqtt
      ? `  path           via mqtt: ${fmt(s.mqtt.published)} published by ${fmt(s.mqtt.devices)} devices to ${s.mqtt.url} (${fmt(s.mqtt.forwarded)} put on the stream by the device rule, ${fmt(s.mqtt.quarantinedByRule)} quarantined by it); ${fmt(s.mqtt.webPutRecords)} web events via Kinesis PutRecords`
      : `  path           via kinesis: PutRecords`,
    `  aggregated     ${fmt(s.aggregated)}   quarantined ${fmt(s.quarantined)} (late ${fmt(s.late)})   conservation: ${mark(s.conservation.ok)}`,
    `  archived       ${fmt(s.archived)} records (${fmt(s.archiveErrors)} as conversion errors) in ${fmt(s.archive.files)} ${s.archive.format} objects under ${s.archive.dir}`,
    `  aggregates     ${fmt(s.aggregateItems)} DynamoDB items`,
    `  reconcile      ${s.reconcile.ok ? 'ok' : `${s.reconcile.drifts.length} drift(s)`}: ${s.reconcile.rollupsChecked} rollups, ${fmt(s.reconcile.windowsChecked)} windows compared with the archive`,
    ...(s.faults ? faultLines(s.faults) : []),
    '',
    'Next, with the same data dir:',
    '  npx shardline aggregates --rollup site_telemetry',
    '  npx shardline query --list',
    '  npx shardline reconcile',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

function faultLines(f: NonNullable<DemoSummary['faults']>): string[] {
  const i = f.injected;
  return [
    `  chaos (seed ${f.seed}): retries ${fmt(f.retries)}, bisects ${fmt(f.bisects)}, throttles ${fmt(f.throttles)}, timeouts ${fmt(f.timeouts)}, duplicates ${fmt(f.duplicates)}, reshards ${fmt(f.reshards)}`,
    `    injected     handler errors before/during/after writes ${i.errorBefore}/${i.errorDuring}/${i.errorAfter}, reported failures ${i.reportedFailure}, timeouts ${i.timeout}, duplicate deliveries ${i.duplicate}`,
    `                 DynamoDB throttles ${i.dynamoThrottle}, errors ${i.dynamoError}, lost responses ${i.dynamoLostResponse}; GetRecords throttles ${i.getRecordsThrottle}; splits ${i.split}, merges ${i.merge}`,
    `    observed     ${fmt(f.observed.invocations)} invocations over ${f.observed.shards} shards, ${f.observed.functionErrors} function errors, ${f.observed.partialFailures} partial failures, ${f.observed.onFailure} batches discarded${f.reshardErrors.length > 0 ? `; resharding errors: ${f.reshardErrors.join('; ')}` : ''}`,
  ];
}
