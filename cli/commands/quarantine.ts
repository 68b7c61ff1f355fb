/**
 * `shardline quarantine`: lists the quarantined records from the quarantine archive
 * (`<dataDir>/s3/<bucket>/quarantine/`, the `quarantine` view of the local engine), distinct by
 * (shardId, sequenceNumber, subSequenceNumber) since a replayed batch may quarantine a record twice.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ResolvedConfig } from '../../common/config.ts';
import { QUARANTINE_REASONS, type QuarantineReason } from '../../common/envelope.ts';
import { UsageError } from '../../common/errors.ts';
import type { QuarantineRecord } from '../../common/quarantine.ts';
import { checkInteger } from '../../common/validate.ts';
import { type ArchiveEngine, openDuckDbArchive } from '../../queries/archive.ts';
import {
  athenaProgress,
  formatTable,
  loadConfig,
  parseIntOption,
  printJson,
  withCommonOptions,
} from '../shared.ts';
import { resolveTarget, type TargetName, withTargetOptions } from '../target.ts';

export interface QuarantineListOptions {
  readonly config: ResolvedConfig;
  /** Local cloud state folder holding `s3/<archive bucket>/quarantine/`, read when `archive` is not given. */
  readonly dataDir?: string;
  /** The engine reading the quarantine table (Athena for a stack). @default DuckDB over `dataDir` */
  readonly archive?: ArchiveEngine;
  /** Only records quarantined for this reason. @default every reason */
  readonly reason?: QuarantineReason;
  /** Most records returned, 1–1,000,000 (counts cover all). @default 100 */
  readonly limit?: number;
}

export interface QuarantineList {
  /** Distinct quarantined records matching the reason filter. */
  total: number;
  /** Distinct quarantined records by reason (all reasons, ignoring the filter). */
  byReason: Partial<Record<QuarantineReason, number>>;
  /** Up to `limit` records, by shard then sequence number. */
  records: QuarantineRecord[];
}

// Athena's dialect (no QUALIFY): the first quarantining of each record.
const DISTINCT = (table: string) =>
  `SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY shardid, sequencenumber, subsequencenumber ORDER BY quarantinedat) AS quarantine_copy FROM ${table}) WHERE quarantine_copy = 1`;

/** Reads the quarantine table (DuckDB over the local archive, or Athena). */
export async function listQuarantine(options: QuarantineListOptions): Promise<QuarantineList> {
  const limit = options.limit ?? 100;
  checkInteger('limit', limit, 1, 1_000_000, (message) => new UsageError(message));
  if (options.reason !== undefined && !QUARANTINE_REASONS.includes(options.reason)) {
    throw new UsageError(
      `reason must be one of ${QUARANTINE_REASONS.join(', ')}; received ${JSON.stringify(options.reason)}`,
    );
  }
  if (!options.archive && options.dataDir === undefined) {
    throw new UsageError('listQuarantine needs an archive engine or the dataDir of the local archive');
  }
  const engine = options.archive ?? (await openDuckDbArchive(options.dataDir!, options.config));
  try {
    const distinct = DISTINCT(options.config.quarantine.tableName);
    const counts = await engine.run(
      `SELECT reason, count(*) AS n FROM (${distinct}) GROUP BY reason ORDER BY reason`,
    );
    const byReason: Partial<Record<QuarantineReason, number>> = {};
    for (const row of counts.rows) byReason[String(row.reason) as QuarantineReason] = Number(row.n);
    // `reason` is checked against the fixed list above, so it is safe to inline.
    const where = options.reason === undefined ? '' : `WHERE reason = '${options.reason}'`;
    const rows = await engine.run(
      `SELECT * FROM (${distinct}) ${where} ORDER BY shardid, length(sequencenumber), sequencenumber, subsequencenumber LIMIT ${limit}`,
    );
    const records: QuarantineRecord[] = rows.rows.map((r) => ({
      reason: String(r.reason) as QuarantineReason,
      detail: String(r.detail ?? ''),
      shardId: String(r.shardid),
      sequenceNumber: String(r.sequencenumber),
      subSequenceNumber: Number(r.subsequencenumber ?? 0),
      partitionKey: String(r.partitionkey ?? ''),
      eventId: r.eventid === null || r.eventid === undefined ? null : String(r.eventid),
      data: String(r.data ?? ''),
      dataBytes: Number(r.databytes ?? 0),
      dataTruncated: r.datatruncated === true,
      approximateArrivalTimestamp: String(r.approximatearrivaltimestamp ?? ''),
      eventSourceARN: String(r.eventsourcearn ?? ''),
      quarantinedAt: String(r.quarantinedat ?? ''),
    }));
    const total =
      options.reason === undefined
        ? Object.values(byReason).reduce((a, n) => a + n, 0)
        : (byReason[options.reason] ?? 0);
    return { total, byReason, records };
  } finally {
    if (!options.archive) await engine.close();
  }
}

function preview(base64: string, max = 40): string {
  const text = Buffer.from(base64, 'base64')
    .toString('utf8')
    .replace(/[^\x20-\x7e]/g, '.');
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

export function register(program: Command): void {
  withTargetOptions(
    withCommonOptions(
      program
        .command('quarantine')
        .description(
          'list quarantined records (original bytes, shard, sequence number, reason) from the archive',
        )
        .option('--reason <reason>', `only this reason (${QUARANTINE_REASONS.join(', ')})`)
        .option('--limit <n>', 'most records listed', parseIntOption('--limit', 1, 1_000_000), 100)
        .option('--json', 'print JSON: total, byReason and the records with their original bytes (base64)'),
    ),
  ).action(
    async (opts: {
      config?: string;
      dataDir: string;
      reason?: string;
      limit: number;
      json?: boolean;
      target: TargetName;
      stack?: string;
    }) => {
      if (opts.reason !== undefined && !(QUARANTINE_REASONS as readonly string[]).includes(opts.reason)) {
        throw new UsageError(
          `--reason must be one of ${QUARANTINE_REASONS.join(', ')}; got ${JSON.stringify(opts.reason)}`,
        );
      }
      const dataDir = resolve(opts.dataDir);
      if (opts.target !== 'aws' && !existsSync(dataDir))
        throw new UsageError(`--data-dir: no such folder ${dataDir}`);
      const target = await resolveTarget(await loadConfig(opts.config), { ...opts, dataDir });
      const archive = await target.openArchive({ onState: athenaProgress() });
      let list: QuarantineList;
      try {
        list = await listQuarantine({
          config: target.config,
          archive,
          limit: opts.limit,
          ...(opts.reason === undefined ? {} : { reason: opts.reason as QuarantineReason }),
        });
      } finally {
        await archive.close();
      }
      if (opts.json) return printJson(list);
      const reasons = Object.entries(list.byReason)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ');
      process.stdout.write(
        `${formatTable(
          list.records.map((r) => ({
            shard: r.shardId,
            sequence: `...${r.sequenceNumber.slice(-12)}`,
            sub: r.subSequenceNumber,
            reason: r.reason,
            bytes: r.dataBytes,
            data: preview(r.data),
            detail: r.detail.length > 60 ? `${r.detail.slice(0, 57)}...` : r.detail,
          })),
        )}\n\n${list.total} distinct quarantined record(s)${opts.reason ? ` with reason ${opts.reason}` : ''}` +
          `${list.records.length < list.total ? ` (showing ${list.records.length}; --limit)` : ''}` +
          `${reasons ? `; by reason: ${reasons}` : ''}\n`,
      );
    },
  );
}
