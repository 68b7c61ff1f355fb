/**
 * The local "S3": objects are files under `<dataDir>/s3/<bucket>/<key>`, written atomically (a temporary
 * file under `<dataDir>/firehose/tmp/`, then a rename), so readers never see a partial object.
 * Parquet objects are written by an in-memory DuckDB from a temporary JSON-lines file with explicit columns.
 */

import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ArchiveColumn } from '../../../common/envelope.ts';
import type { Cell } from './convert.ts';

/** Writes objects into the local bucket folders. */
export class ObjectWriter {
  readonly s3Root: string;
  readonly tmpDir: string;
  #duck: Promise<DuckDBConnection> | null = null;
  #duckInstance: DuckDBInstance | null = null;
  #parquetChain: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.s3Root = join(dataDir, 's3');
    this.tmpDir = join(dataDir, 'firehose', 'tmp');
  }

  /** Absolute path of `bucket/key`. */
  pathOf(bucket: string, key: string): string {
    return join(this.s3Root, bucket, ...key.split('/'));
  }

  /** Writes bytes to `bucket/key` atomically; returns the file path. */
  async writeBytes(bucket: string, key: string, bytes: Uint8Array): Promise<string> {
    const target = this.pathOf(bucket, key);
    const tmp = await this.#tmpPath('.part');
    await writeFile(tmp, bytes);
    await this.#publish(tmp, target);
    return target;
  }

  /** Writes rows as a Parquet object with exactly `columns`, atomically; returns the file path. */
  async writeParquet(
    bucket: string,
    key: string,
    columns: readonly ArchiveColumn[],
    rows: readonly Readonly<Record<string, Cell>>[],
  ): Promise<string> {
    const run = this.#parquetChain.then(() => this.#writeParquet(bucket, key, columns, rows));
    this.#parquetChain = run.catch(() => undefined);
    return run;
  }

  async #writeParquet(
    bucket: string,
    key: string,
    columns: readonly ArchiveColumn[],
    rows: readonly Readonly<Record<string, Cell>>[],
  ): Promise<string> {
    const target = this.pathOf(bucket, key);
    const jsonl = await this.#tmpPath('.jsonl');
    const parquet = await this.#tmpPath('.parquet');
    try {
      await writeFile(jsonl, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
      const sqlColumns = columns
        .map(
          (c) =>
            `${quoteIdent(c.name)}: ${quoteString(c.glueType === 'timestamp' ? 'BIGINT' : c.duckdbType)}`,
        )
        .join(', ');
      const select = columns
        .map((c) =>
          c.glueType === 'timestamp'
            ? `make_timestamp(${quoteIdent(c.name)} * 1000) AS ${quoteIdent(c.name)}`
            : quoteIdent(c.name),
        )
        .join(', ');
      const sql =
        `COPY (SELECT ${select} FROM read_json(${quoteString(jsonl)}, format = 'newline_delimited', ` +
        `columns = {${sqlColumns}})) TO ${quoteString(parquet)} (FORMAT parquet)`;
      const connection = await this.#connection();
      await connection.run(sql);
      await this.#publish(parquet, target);
      return target;
    } finally {
      await rm(jsonl, { force: true });
      await rm(parquet, { force: true });
    }
  }

  /** Closes the DuckDB instance, if one was opened. */
  async close(): Promise<void> {
    await this.#parquetChain;
    if (this.#duck) {
      const connection = await this.#duck.catch(() => null);
      connection?.closeSync();
      this.#duckInstance?.closeSync();
      this.#duck = null;
      this.#duckInstance = null;
    }
  }

  #connection(): Promise<DuckDBConnection> {
    this.#duck ??= (async () => {
      const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
      this.#duckInstance = instance;
      return instance.connect();
    })();
    return this.#duck;
  }

  async #tmpPath(ext: string): Promise<string> {
    await mkdir(this.tmpDir, { recursive: true });
    return join(this.tmpDir, `${randomUUID()}${ext}`);
  }

  async #publish(tmp: string, target: string): Promise<void> {
    await mkdir(dirname(target), { recursive: true });
    await rename(tmp, target);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
