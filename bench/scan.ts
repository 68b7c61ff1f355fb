/**
 * Scans: bytes DuckDB reads (the engine's `bytesScanned`) for a catalog query over the archive, laid out
 * as the local Firehose writes it (`raw/dt=YYYY-MM-DD-HH/...`): Parquet with partition pruning (a one-hour
 * range), Parquet without pruning (the whole archive's range), and the same data as GZIP JSON lines.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { resolveConfig } from '../common/config.ts';
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
const stamp = (ms: number) => {
  const d = new Date(ms).toISOString();
  return `${d.slice(0, 10)}-${d.slice(11, 13)}-${d.slice(14, 16)}-${d.slice(17, 19)}`;
};

async function writeArchives(root: string, hours: number, perHour: number): Promise<number> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await instance.connect();
  let n = 0;
  try {
    await conn.run("SET TimeZone = 'UTC'");
    for (let h = 0; h < hours; h++) {
      const start = BENCH_T0 + h * HOUR;
      const records = generateFleet({ records: perHour, rate: perHour / 3600, startMs: start, seed: h + 1 });
      n += records.length;
      const lines = `${records.map((r) => r.json).join('\n')}\n`;
      const dt = dtOf(start);
      const name = `shardline-archive-1-${stamp(start)}-bench`;
      const jsonDir = join(root, 'json', 's3', 'shardline-archive', 'raw', `dt=${dt}`);
      mkdirSync(jsonDir, { recursive: true });
      writeFileSync(join(jsonDir, `${name}.gz`), gzipSync(lines));
      const pqDir = join(root, 'parquet', 's3', 'shardline-archive', 'raw', `dt=${dt}`);
      mkdirSync(pqDir, { recursive: true });
      const src = join(root, `${dt}.jsonl`);
      writeFileSync(src, lines);
      await conn.run(
        `COPY (SELECT CAST(v AS INTEGER) AS v, eventId AS eventid, source AS source, type AS type,
                CAST(CAST(ts AS TIMESTAMPTZ) AS TIMESTAMP) AS ts,
                CAST(metrics AS MAP(VARCHAR, DOUBLE)) AS metrics, CAST(dims AS MAP(VARCHAR, VARCHAR)) AS dims
              FROM read_json('${src}', format = 'newline_delimited',
                columns = {v: 'INTEGER', eventId: 'VARCHAR', source: 'VARCHAR', type: 'VARCHAR', ts: 'VARCHAR',
                           metrics: 'MAP(VARCHAR, DOUBLE)', dims: 'MAP(VARCHAR, VARCHAR)'}))
         TO '${join(pqDir, `${name}.parquet`)}' (FORMAT parquet)`,
      );
      rmSync(src);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
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
