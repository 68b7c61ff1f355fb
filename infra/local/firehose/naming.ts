/**
 * Pure S3 naming of the local Firehose: prefix expressions and object keys, as Firehose evaluates them.
 *
 * - Objects are named `<evaluated prefix><stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><ext>`.
 * - `!{timestamp:<Java DateTimeFormatter pattern>}` uses the arrival time of the oldest record in the object,
 *   UTC. Supported pattern letters: `yyyy`, `MM`, `dd`, `HH`, `mm`, `ss`; any other character is literal, and
 *   `'...'` quotes literal text (`''` is a quote).
 * - `!{firehose:random-string}` is 11 random characters; `!{firehose:error-output-type}` is only valid in an
 *   error output prefix.
 * - An empty prefix means `yyyy/MM/dd/HH/`; a prefix without any expression gets `yyyy/MM/dd/HH/` appended
 *   (Firehose's default time prefix). An empty error prefix means `<error-output-type>/yyyy/MM/dd/HH/`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { FirehoseConfigError } from './errors.ts';

/** One piece of a parsed prefix. */
export type PrefixPart =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'timestamp'; readonly pattern: readonly TimestampToken[] }
  | { readonly kind: 'random' }
  | { readonly kind: 'errorOutputType' };

/** A token of a Java DateTimeFormatter pattern we support. */
export type TimestampToken =
  | { readonly field: 'yyyy' | 'MM' | 'dd' | 'HH' | 'mm' | 'ss' }
  | { readonly text: string };

/** A prefix parsed once and evaluated per object. */
export interface ParsedPrefix {
  readonly source: string;
  readonly parts: readonly PrefixPart[];
}

const FIELDS = new Set(['yyyy', 'MM', 'dd', 'HH', 'mm', 'ss']);
const DEFAULT_TIME_PREFIX = 'yyyy/MM/dd/HH/';

/** Parses a Java DateTimeFormatter pattern restricted to `yyyy MM dd HH mm ss`, literals and `'quoted'` text. */
export function parseTimestampPattern(pattern: string): TimestampToken[] {
  const tokens: TimestampToken[] = [];
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern.charAt(i);
    if (ch === "'") {
      if (pattern.charAt(i + 1) === "'") {
        tokens.push({ text: "'" });
        i += 2;
        continue;
      }
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) {
        throw new FirehoseConfigError(
          `timestamp pattern has an unterminated quote; received ${JSON.stringify(pattern)}`,
        );
      }
      tokens.push({ text: pattern.slice(i + 1, end) });
      i = end + 1;
    } else if (/[A-Za-z]/.test(ch)) {
      let j = i;
      while (pattern.charAt(j) === ch) j++;
      const run = pattern.slice(i, j);
      if (!FIELDS.has(run)) {
        throw new FirehoseConfigError(
          `timestamp pattern letters must be one of yyyy, MM, dd, HH, mm, ss (quote other text with '...'); received ${JSON.stringify(run)} in ${JSON.stringify(pattern)}`,
        );
      }
      tokens.push({ field: run as 'yyyy' });
      i = j;
    } else {
      tokens.push({ text: ch });
      i++;
    }
  }
  return tokens;
}

/** Formats epoch ms (UTC) with parsed pattern tokens. */
export function formatTimestamp(tokens: readonly TimestampToken[], epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  let out = '';
  for (const t of tokens) {
    if ('text' in t) {
      out += t.text;
      continue;
    }
    switch (t.field) {
      case 'yyyy':
        out += pad(d.getUTCFullYear(), 4);
        break;
      case 'MM':
        out += pad(d.getUTCMonth() + 1);
        break;
      case 'dd':
        out += pad(d.getUTCDate());
        break;
      case 'HH':
        out += pad(d.getUTCHours());
        break;
      case 'mm':
        out += pad(d.getUTCMinutes());
        break;
      case 'ss':
        out += pad(d.getUTCSeconds());
        break;
    }
  }
  return out;
}

/**
 * Parses and validates a prefix. `kind` says whether it is an error output prefix (the only place
 * `!{firehose:error-output-type}` is allowed). Applies Firehose's defaults for empty/static prefixes.
 */
export function parsePrefix(prefix: string, kind: 'data' | 'error'): ParsedPrefix {
  const parts: PrefixPart[] = [];
  const re = /!\{([^}:]*):([^}]*)\}/g;
  let last = 0;
  let expressions = 0;
  for (const m of prefix.matchAll(re)) {
    const [whole, namespace, value] = m as unknown as [string, string, string];
    if (m.index > last) parts.push({ kind: 'literal', text: prefix.slice(last, m.index) });
    last = m.index + whole.length;
    expressions++;
    if (namespace === 'timestamp') {
      parts.push({ kind: 'timestamp', pattern: parseTimestampPattern(value) });
    } else if (namespace === 'firehose' && value === 'random-string') {
      parts.push({ kind: 'random' });
    } else if (namespace === 'firehose' && value === 'error-output-type') {
      if (kind !== 'error') {
        throw new FirehoseConfigError(
          `!{firehose:error-output-type} is only allowed in an error output prefix; received ${JSON.stringify(prefix)}`,
        );
      }
      parts.push({ kind: 'errorOutputType' });
    } else {
      throw new FirehoseConfigError(
        `prefix expressions must be !{timestamp:<pattern>}, !{firehose:random-string} or !{firehose:error-output-type}; received ${JSON.stringify(whole)} in ${JSON.stringify(prefix)}`,
      );
    }
  }
  const rest = prefix.slice(last);
  if (prefix.includes('!{') && rest.includes('!{')) {
    throw new FirehoseConfigError(
      `prefix has an unterminated !{ expression; received ${JSON.stringify(prefix)}`,
    );
  }
  if (rest.length > 0) parts.push({ kind: 'literal', text: rest });
  const timePrefix: PrefixPart = { kind: 'timestamp', pattern: parseTimestampPattern(DEFAULT_TIME_PREFIX) };
  if (expressions === 0) {
    if (kind === 'error' && prefix === '') {
      return {
        source: prefix,
        parts: [{ kind: 'errorOutputType' }, { kind: 'literal', text: '/' }, timePrefix],
      };
    }
    parts.push(timePrefix);
  }
  return { source: prefix, parts };
}

/** What a prefix is evaluated against. */
export interface PrefixContext {
  /** Arrival time of the oldest record in the object, epoch ms. */
  readonly arrivalMs: number;
  /** Value of `!{firehose:error-output-type}`, e.g. `format-conversion-failed`. */
  readonly errorOutputType?: string;
  /** Source of `!{firehose:random-string}`. @default {@link randomString} */
  readonly random?: () => string;
}

/** Evaluates a parsed prefix. */
export function evaluatePrefix(prefix: ParsedPrefix, ctx: PrefixContext): string {
  let out = '';
  for (const part of prefix.parts) {
    switch (part.kind) {
      case 'literal':
        out += part.text;
        break;
      case 'timestamp':
        out += formatTimestamp(part.pattern, ctx.arrivalMs);
        break;
      case 'random':
        out += (ctx.random ?? randomString)();
        break;
      case 'errorOutputType':
        if (ctx.errorOutputType === undefined) {
          throw new FirehoseConfigError(`prefix ${JSON.stringify(prefix.source)} needs an error output type`);
        }
        out += ctx.errorOutputType;
        break;
    }
  }
  return out;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** 11 random characters of `[A-Za-z0-9]`, like `!{firehose:random-string}`. */
export function randomString(): string {
  const bytes = randomBytes(11);
  let s = '';
  for (const b of bytes) s += ALPHABET.charAt(b % ALPHABET.length);
  return s;
}

/** Options of {@link objectKey}. */
export interface ObjectKeyInput {
  readonly prefix: ParsedPrefix;
  readonly deliveryStreamName: string;
  /** Delivery stream version. @default 1 */
  readonly version?: number;
  /** Arrival time of the oldest record in the object, epoch ms. */
  readonly arrivalMs: number;
  /** File extension with its dot (`.parquet`, `.gz`), or `''`. */
  readonly extension: string;
  readonly errorOutputType?: string;
  readonly random?: () => string;
  /** @default crypto.randomUUID */
  readonly uuid?: () => string;
}

const NAME_TIME = parseTimestampPattern('yyyy-MM-dd-HH-mm-ss');

/** The object key (relative to the bucket) Firehose gives an object. */
export function objectKey(input: ObjectKeyInput): string {
  const prefix = evaluatePrefix(input.prefix, {
    arrivalMs: input.arrivalMs,
    ...(input.errorOutputType === undefined ? {} : { errorOutputType: input.errorOutputType }),
    ...(input.random === undefined ? {} : { random: input.random }),
  });
  const time = formatTimestamp(NAME_TIME, input.arrivalMs);
  const uuid = (input.uuid ?? randomUUID)();
  return `${prefix}${input.deliveryStreamName}-${input.version ?? 1}-${time}-${uuid}${input.extension}`;
}
