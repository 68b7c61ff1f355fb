/**
 * Scans: bytes DuckDB reads (the engine's `bytesScanned`) for a catalog query over the archive, laid out
 * as the local Firehose writes it (`raw/dt=YYYY-MM-DD-HH/...`): Parquet with partition pruning (a one-hour
 * range), Parquet without pruning (the whole archive's range), and the same data as GZIP JSON (records concatenated, as Firehose writes them).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../common/config.ts';
import { deliverObjects } from '../infra/local/firehose.ts';
import { runQuery } from '../queries/run.ts';
import { BENCH_T0, generateFleet } from './data.ts';

export interface ScanResult {
  prunedBytes: number;
  fullScanBytes: number;
  /** The same query's partitions as GZIP JSON (compressed bytes of the objects read). */
  gzipJsonBytes: number;
  /** gzipJsonBytes / prunedBytes. */
  reductionVsJson: number;
  /** The whole archive as GZIP JSON. */
  gzipJsonFullScanBytes: number;
  query: string;
  hours: number;
  records: number;
}

export interface ScanBenchOptions {
  /** Hour partitions, 2–720. @default 24 */
  readonly hours?: number;
  /** Records per hour, 1–1,000,000. @default 5000 */
  readonly perHour?: number;
}

const HOUR = 3_600_000;
const dtOf = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace('T', '-');

/** The same records as Parquet and as GZIP JSON, through the local Firehose's own delivery path. */
async function writeArchives(root: string, hours: number, perHour: number): Promise<number> {
  let n = 0;
  for (let h = 0; h < hours; h++) {
    const start = BENCH_T0 + h * HOUR;
    const records = generateFleet({ records: perHour, rate: perHour / 3600, startMs: start, seed: h + 1 });
    n += records.length;
    const delivery = records.map((r) => ({ data: Buffer.from(r.json), arrivalMs: start }));
    for (const format of ['parquet', 'json.gz'] as const) {
      await deliverObjects({
        config: resolveConfig({ archive: { format } }),
        dataDir: join(root, format === 'parquet' ? 'parquet' : 'json'),
        records: delivery,
      });
    }
  }
  return n;
}

export async function benchScan(options: ScanBenchOptions = {}): Promise<ScanResult> {
  const hours = options.hours ?? 24;
  const perHour = options.perHour ?? 5000;
  const root = mkdtempSync(join(tmpdir(), 'shardline-bench-scan-'));
  try {
    const records = await writeArchives(root, hours, perHour);
    const query = 'events_per_minute';
    const mid = BENCH_T0 + Math.floor(hours / 2) * HOUR;
    const oneHour = { from: new Date(mid).toISOString(), to: new Date(mid + HOUR).toISOString() };
    const all = {
      from: new Date(BENCH_T0).toISOString(),
      to: new Date(BENCH_T0 + hours * HOUR).toISOString(),
    };
    const bytes = async (format: 'parquet' | 'json.gz', params: Record<string, string>) => {
      const config = resolveConfig({ archive: { format } });
      const dataDir = join(root, format === 'parquet' ? 'parquet' : 'json');
      const r = await runQuery({ query, params, config, dataDir, now: BENCH_T0 + hours * HOUR });
      if (r.rows.length === 0) throw new Error(`scan bench: ${query} over ${format} returned no rows`);
      return r.stats.bytesScanned;
    };
    const prunedBytes = await bytes('parquet', oneHour);
    const fullScanBytes = await bytes('parquet', all);
    // DuckDB does not count bytes read by read_json; a JSON object must be read whole, so count the
    // compressed bytes of every object in the partitions the query scans (as Athena bills GZIP JSON),
    // after checking the query runs on that archive.
    await bytes('json.gz', oneHour);
    const jsonRaw = join(root, 'json', 's3', 'shardline-archive', 'raw');
    const gzBytes = (fromMs: number, toMs: number) => {
      // The catalog query's pruning: dt from one hour before `from` to two hours after `to`.
      const lo = dtOf(fromMs - HOUR);
      const hi = dtOf(toMs + 2 * HOUR);
      let total = 0;
      for (const d of readdirSync(jsonRaw)) {
        const dt = d.slice('dt='.length);
        if (dt < lo || dt > hi) continue;
        for (const f of readdirSync(join(jsonRaw, d))) total += statSync(join(jsonRaw, d, f)).size;
      }
      return total;
    };
    const gzipJsonBytes = gzBytes(mid, mid + HOUR);
    const gzipJsonFullScanBytes = gzBytes(BENCH_T0, BENCH_T0 + hours * HOUR);
    return {
      prunedBytes,
      fullScanBytes,
      gzipJsonBytes,
      reductionVsJson: gzipJsonBytes / Math.max(1, prunedBytes),
      gzipJsonFullScanBytes,
      query: `${query} over one hour (from ${oneHour.from}) of a ${hours}-hour archive`,
      hours,
      records,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
