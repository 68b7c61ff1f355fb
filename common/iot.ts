/**
 * The device topic mapping, defined once: devices publish the envelope JSON to `devices/{source}/events`,
 * and the topic rule `SELECT *, topic(2) AS source FROM 'devices/+/events'` forwards it to Kinesis with
 * `source` (and the partition key) taken from the topic, never from the payload.
 *
 * The CDK construct writes {@link DeviceMapping.sql} into the `AWS::IoT::TopicRule`; the local broker's rule
 * evaluates the same mapping with {@link evaluateDeviceRule}. Pure: no IO, no clock.
 */
import type { ResolvedConfig } from './config.ts';
import { ShardlineError } from './errors.ts';

/**
 * Largest MQTT PUBLISH payload IoT Core takes, 128 KiB: "AWS IoT Core rejects publish and connect requests
 * larger than this size" (AWS IoT Core message broker quotas); the client gets PAYLOAD_LIMIT_EXCEEDED.
 */
export const IOT_MAX_PAYLOAD_BYTES = 128 * 1024;

/** The topic rule derived from `config.iot`. */
export interface DeviceMapping {
  /** Topic template, e.g. `devices/{source}/events`. */
  readonly topic: string;
  /** MQTT topic filter the rule listens on, e.g. `devices/+/events`. */
  readonly filter: string;
  /** 1-based level of `{source}` (the argument of IoT SQL's `topic(n)`), e.g. 2. */
  readonly sourceLevel: number;
  /** The rule's IoT SQL (version 2016-03-23), e.g. `SELECT *, topic(2) AS source FROM 'devices/+/events'`. */
  readonly sql: string;
  /** Partition key template of the Kinesis action, e.g. `${topic(2)}`. */
  readonly partitionKey: string;
  /** IoT topic rule name. */
  readonly ruleName: string;
}

/** A device id cannot be put in a topic: the message says which and why. */
export class DeviceTopicError extends ShardlineError {
  constructor(message: string) {
    super('DEVICE_TOPIC_INVALID', message);
  }
}

/** Derives the filter, `topic(n)` level and SQL from the config (validated by `resolveConfig`). */
export function deviceMapping(iot: ResolvedConfig['iot']): DeviceMapping {
  const levels = iot.topic.split('/');
  const index = levels.indexOf('{source}');
  const filter = levels.map((l, i) => (i === index ? '+' : l)).join('/');
  const sourceLevel = index + 1;
  return {
    topic: iot.topic,
    filter,
    sourceLevel,
    sql: `SELECT *, topic(${sourceLevel}) AS source FROM '${filter}'`,
    partitionKey: `\${topic(${sourceLevel})}`,
    ruleName: iot.ruleName,
  };
}

/**
 * The topic device `source` publishes to. A source must be 1–128 characters (the envelope's limit) and a
 * single topic level: no `/`, `+`, `#` or NUL.
 */
export function deviceTopic(mapping: DeviceMapping, source: string): string {
  if (source.length < 1 || source.length > 128 || /[/+#]/.test(source) || source.includes('\0')) {
    throw new DeviceTopicError(
      `device source must be 1-128 characters without /, +, # or NUL (it is one topic level); received ${JSON.stringify(source.slice(0, 60))}`,
    );
  }
  return mapping.topic.replace('{source}', () => source);
}

/**
 * Whether MQTT topic `topic` matches `filter` (MQTT 3.1.1 §4.7): `+` matches one level, `#` the rest
 * (including the parent level); filters starting with a wildcard never match topics starting with `$`.
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Why the rule could not turn a message into a Kinesis record (the envelope's quarantine reasons). */
export type DeviceRuleRejection = 'oversize' | 'invalid_utf8' | 'invalid_json' | 'delivery_failed';

/** What the rule does with one message: a value, never an exception. */
export type DeviceRuleOutcome =
  /** The topic is not the rule's: the broker routes it to subscribers only. */
  | { readonly kind: 'no_match' }
  /** Put `data` on the stream with `partitionKey`. */
  | {
      readonly kind: 'record';
      readonly data: Uint8Array;
      readonly partitionKey: string;
      readonly source: string;
    }
  /** Not forwarded; counted and quarantined with `reason`. */
  | {
      readonly kind: 'rejected';
      readonly reason: DeviceRuleRejection;
      readonly detail: string;
      readonly source: string;
    };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * Evaluates `SELECT *, topic(n) AS source FROM '<filter>'` on one message, as IoT Core's rules engine does:
 * - a payload over {@link IOT_MAX_PAYLOAD_BYTES} never reaches the rule (the broker rejects the publish);
 * - `*, ... AS source` adds an attribute, which needs a JSON (or empty) payload: any other payload fails the
 *   rule's SQL (IoT Core counts it in the rule's `ParseError` metric and runs no action);
 * - a JSON object gets `source` set to the topic level, replacing any `source` it carried; an empty
 *   payload becomes `{"source": ...}`; a JSON value that is not an object is forwarded unchanged (it has
 *   no attribute to add to), and the processor quarantines it as not an envelope.
 */
export function evaluateDeviceRule(
  mapping: DeviceMapping,
  topic: string,
  payload: Uint8Array,
): DeviceRuleOutcome {
  if (!topicMatches(mapping.filter, topic)) return { kind: 'no_match' };
  const source = topic.split('/')[mapping.sourceLevel - 1] ?? '';
  if (payload.byteLength > IOT_MAX_PAYLOAD_BYTES) {
    return {
      kind: 'rejected',
      reason: 'oversize',
      detail: `payload must be at most ${IOT_MAX_PAYLOAD_BYTES} bytes (IoT Core's PUBLISH limit); received ${payload.byteLength}`,
      source,
    };
  }
  if (source.length < 1 || source.length > 256) {
    // `+` matches an empty level too; Kinesis takes 1-256 character partition keys, so IoT Core's Kinesis
    // action fails and the rule's error action runs.
    return {
      kind: 'rejected',
      reason: 'delivery_failed',
      detail: `topic level ${mapping.sourceLevel} of ${JSON.stringify(topic.slice(0, 300))} is the partition key, which Kinesis takes as 1-256 characters; received ${source.length}`,
      source,
    };
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return {
      kind: 'rejected',
      reason: 'invalid_utf8',
      detail: `payload is not UTF-8 JSON (${payload.byteLength} bytes); the rule's SELECT *, topic(${mapping.sourceLevel}) AS source needs JSON`,
      source,
    };
  }
  let value: unknown;
  if (text.trim() === '') value = {};
  else {
    try {
      value = JSON.parse(text);
    } catch (err) {
      return {
        kind: 'rejected',
        reason: 'invalid_json',
        detail: `payload is not JSON (${(err as Error).message}); the rule's SELECT *, topic(${mapping.sourceLevel}) AS source needs JSON`,
        source,
      };
    }
  }
  const out =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? JSON.stringify({ ...(value as Record<string, unknown>), source })
      : JSON.stringify(value);
  return { kind: 'record', data: encoder.encode(out), partitionKey: source, source };
}
