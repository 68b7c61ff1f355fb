/**
 * The one error hierarchy of Shardline. Every error says what was received and what was expected.
 *
 * `retryable` follows the AWS SDK's `$retryable` idea: callers may retry a retryable error with backoff;
 * a non-retryable one will fail the same way again.
 */
export class ShardlineError extends Error {
  /** Stable machine-readable code, e.g. `CONFIG_INVALID`. */
  readonly code: string;
  /** Whether retrying the same operation may succeed. */
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** The configuration is invalid: the message names each offending path, the value received and the rule. */
export class ConfigError extends ShardlineError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CONFIG_INVALID', message, options);
  }
}

/** A call to an AWS service (or its local emulator) failed after its retries. */
export class ServiceError extends ShardlineError {
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super('SERVICE_FAILED', message, options);
  }
}

/** The producer could not deliver records: lists how many and why. */
export class ProducerError extends ShardlineError {
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super('PRODUCE_FAILED', message, options);
  }
}

/** A user-facing command was given bad arguments. */
export class UsageError extends ShardlineError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Formats a zod-style issue path as `a.b[0].c`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Describes a received value briefly for error messages: `"2m"`, `23`, `an array of 3`, `undefined`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return `an ${typeof value}`;
}
