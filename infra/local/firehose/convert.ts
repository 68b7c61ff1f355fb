/**
 * Pure record format conversion, as Firehose does it with the OpenX JSON SerDe and a Glue schema:
 * each record is one JSON object; its top-level keys map case-insensitively to the columns (map keys inside
 * keep their case); missing fields and JSON `null` become NULL; unknown fields are dropped. A record that is
 * not a JSON object, or a value that cannot be converted to its column's type, is a conversion failure
 * (it goes to the error output prefix as `format-conversion-failed`).
 *
 * Conversions: `int` from integral numbers or integer strings (32-bit); `string` from strings, numbers and
 * booleans (objects/arrays as their JSON text); `double` from numbers; `timestamp` from ISO-8601 strings
 * (no zone means UTC), epoch milliseconds (|n| >= 1e11) or epoch seconds (fractions allowed), kept at
 * millisecond precision; `map<string,T>` from objects with values convertible to T.
 */
import type { ArchiveColumn } from '../../../common/envelope.ts';
import { FirehoseConfigError } from './errors.ts';

/** A JSON value as JSON.parse returns it. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A converted cell: what the Parquet writer receives (timestamps as epoch ms). */
export type Cell = null | number | string | { [key: string]: number | string | null };

export type ConversionResult =
  | { readonly ok: true; readonly row: Readonly<Record<string, Cell>> }
  | { readonly ok: false; readonly errorCode: string; readonly errorMessage: string };

/** Firehose's error code for data the SerDe could not read. */
export const MALFORMED_DATA = 'DataFormatConversion.MalformedData';

type Converter = (value: Json, path: string) => Cell;

class CellError extends Error {}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$/;

function describe(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}

const toInt: Converter = (v, path) => {
  const n =
    typeof v === 'number'
      ? v
      : typeof v === 'string' && /^-?\d{1,10}$/.test(v.trim())
        ? Number(v)
        : Number.NaN;
  if (!Number.isInteger(n) || n < -2147483648 || n > 2147483647) {
    throw new CellError(`${path}: cannot convert ${describe(v)} to int`);
  }
  return n;
};

const toDouble: Converter = (v, path) => {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new CellError(`${path}: cannot convert ${describe(v)} to double`);
  return v;
};

const toStringCell: Converter = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

const toTimestamp: Converter = (v, path) => {
  let ms = Number.NaN;
  if (typeof v === 'number') {
    ms = Math.abs(v) >= 1e11 ? v : v * 1000;
  } else if (typeof v === 'string') {
    const m = ISO_RE.exec(v.trim());
    if (m) {
      const zone = m[8] === undefined || m[8] === 'Z' ? 'Z' : m[8].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
      const fraction = (m[7] ?? '.0').slice(0, 4);
      ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${fraction}${zone}`);
    }
  }
  ms = Math.round(ms);
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15)
    throw new CellError(`${path}: cannot convert ${describe(v)} to timestamp`);
  return ms;
};

function toMap(valueConverter: Converter): Converter {
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw new CellError(`${path}: cannot convert ${describe(v)} to map`);
    }
    const out: { [key: string]: number | string | null } = {};
    for (const [key, inner] of Object.entries(v)) {
      out[key] = inner === null ? null : (valueConverter(inner, `${path}.${key}`) as number | string);
    }
    return out;
  };
}

const CONVERTERS: Readonly<Record<string, Converter>> = {
  int: toInt,
  string: toStringCell,
  double: toDouble,
  timestamp: toTimestamp,
  'map<string,double>': toMap(toDouble),
  'map<string,string>': toMap(toStringCell),
};

/** A compiled converter for a column list; fails at creation on a column type it cannot convert. */
export interface RecordConverter {
  readonly columns: readonly ArchiveColumn[];
  convert(data: Uint8Array): ConversionResult;
}

/** Builds a converter for `columns` (Glue types `int`, `string`, `double`, `timestamp`, `map<string,double|string>`). */
export function recordConverter(columns: readonly ArchiveColumn[]): RecordConverter {
  const compiled = columns.map((c) => {
    const fn = CONVERTERS[c.glueType];
    if (!fn) {
      throw new FirehoseConfigError(
        `column ${c.name}: glue type must be one of ${Object.keys(CONVERTERS).join(', ')}; received ${JSON.stringify(c.glueType)}`,
      );
    }
    return { name: c.name.toLowerCase(), fn };
  });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return {
    columns,
    convert(data) {
      let parsed: Json;
      try {
        parsed = JSON.parse(decoder.decode(data)) as Json;
      } catch (e) {
        return {
          ok: false,
          errorCode: MALFORMED_DATA,
          errorMessage: `The record is not valid JSON: ${(e as Error).message}`,
        };
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        return {
          ok: false,
          errorCode: MALFORMED_DATA,
          errorMessage: `The record must be a JSON object; received ${describe(parsed)}`,
        };
      }
      const byKey = new Map<string, Json>();
      for (const [key, value] of Object.entries(parsed)) byKey.set(key.toLowerCase(), value);
      const row: Record<string, Cell> = {};
      try {
        for (const { name, fn } of compiled) {
          const value = byKey.get(name);
          row[name] = value === undefined || value === null ? null : fn(value, name);
        }
      } catch (e) {
        if (!(e instanceof CellError)) throw e;
        return { ok: false, errorCode: MALFORMED_DATA, errorMessage: e.message };
      }
      return { ok: true, row };
    },
  };
}

/** The Glue table a conversion used, echoed in error records. */
export interface DataCatalogTable {
  readonly catalogId: string | null;
  readonly databaseName: string;
  readonly tableName: string;
  readonly region: string;
  readonly versionId: string;
  readonly roleArn: string;
}

/** One line of a `format-conversion-failed` error object, in Firehose's shape. */
export interface FormatConversionErrorRecord {
  readonly attemptsMade: number;
  readonly arrivalTimestamp: number;
  readonly lastErrorCode: string;
  readonly lastErrorMessage: string;
  readonly attemptEndingTimestamp: number;
  /** The record's bytes, base64. */
  readonly rawData: string;
  readonly sequenceNumber: string | null;
  readonly subSequenceNumber: number | null;
  readonly dataCatalogTable: DataCatalogTable;
}

/** Builds the error record Firehose writes for a record it could not convert. */
export function formatConversionErrorRecord(input: {
  readonly data: Uint8Array;
  readonly arrivalMs: number;
  readonly attemptEndingMs: number;
  readonly sequenceNumber: string | null;
  readonly subSequenceNumber: number | null;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly table: DataCatalogTable;
}): FormatConversionErrorRecord {
  return {
    attemptsMade: 1,
    arrivalTimestamp: input.arrivalMs,
    lastErrorCode: input.errorCode,
    lastErrorMessage: input.errorMessage,
    attemptEndingTimestamp: input.attemptEndingMs,
    rawData: Buffer.from(input.data).toString('base64'),
    sequenceNumber: input.sequenceNumber,
    subSequenceNumber: input.subSequenceNumber,
    dataCatalogTable: input.table,
  };
}
