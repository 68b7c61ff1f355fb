import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../common/config.ts';
import { ConfigError } from '../../../common/errors.ts';
import {
  DeviceTopicError,
  deviceMapping,
  deviceTopic,
  evaluateDeviceRule,
  IOT_MAX_PAYLOAD_BYTES,
  topicMatches,
} from '../../../common/iot.ts';

const mapping = deviceMapping(resolveConfig({}).iot);
const bytes = (s: string) => new TextEncoder().encode(s);
const json = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;

describe('deviceMapping', () => {
  it('derives the rule of the issue from the default topic', () => {
    expect(mapping).toEqual({
      topic: 'devices/{source}/events',
      filter: 'devices/+/events',
      sourceLevel: 2,
      sql: "SELECT *, topic(2) AS source FROM 'devices/+/events'",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IoT substitution template, not JS
      partitionKey: '${topic(2)}',
      ruleName: 'shardline_devices',
    });
  });

  it('follows a configured topic', () => {
    const m = deviceMapping(resolveConfig({ iot: { topic: 'fleet/eu/{source}/telemetry' } }).iot);
    expect(m.sql).toBe("SELECT *, topic(3) AS source FROM 'fleet/eu/+/telemetry'");
    expect(deviceTopic(m, 'd1')).toBe('fleet/eu/d1/telemetry');
  });

  it.each([
    ['devices/+/events', 'without +, #'],
    ['devices/events', 'exactly one level "{source}"'],
    ['{source}/{source}', 'exactly one level "{source}"'],
    ['$aws/{source}/events', 'leading $'],
    ['a/b/c/d/e/f/g/h/{source}', '1-8 non-empty levels'],
    ['devices//{source}', '1-8 non-empty levels'],
  ])('rejects topic %s', (topic, message) => {
    expect(() => resolveConfig({ iot: { topic } })).toThrow(ConfigError);
    expect(() => resolveConfig({ iot: { topic } })).toThrow(message);
  });

  it('rejects a rule name IoT Core would refuse', () => {
    expect(() => resolveConfig({ iot: { ruleName: 'my-rule' } })).toThrow('iot.ruleName');
  });

  it('refuses a source that is not one topic level', () => {
    for (const bad of ['', 'a/b', 'a+', '#', 'x'.repeat(129)]) {
      expect(() => deviceTopic(mapping, bad)).toThrow(DeviceTopicError);
    }
  });
});

describe('topicMatches (MQTT 3.1.1 section 4.7 examples)', () => {
  it.each([
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/#', 'sport', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['#', '$SYS/broker/clients', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/monitor/Clients', true],
    ['devices/+/events', 'devices/d1/events', true],
    ['devices/+/events', 'devices/d1/events/x', false],
    ['devices/+/events', 'Devices/d1/events', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('evaluateDeviceRule', () => {
  it('takes source from the topic, not the payload, and keys the record by it', () => {
    const out = evaluateDeviceRule(
      mapping,
      'devices/d-7/events',
      bytes('{"v":1,"source":"someone-else","metrics":{"t":1}}'),
    );
    expect(out.kind).toBe('record');
    if (out.kind !== 'record') return;
    expect(out.partitionKey).toBe('d-7');
    expect(json(out.data)).toEqual({ v: 1, source: 'd-7', metrics: { t: 1 } });
  });

  it('ignores topics outside the filter', () => {
    expect(evaluateDeviceRule(mapping, 'devices/d1/status', bytes('{}'))).toEqual({ kind: 'no_match' });
    expect(evaluateDeviceRule(mapping, 'other/d1/events', bytes('{}'))).toEqual({ kind: 'no_match' });
  });

  it('adds source to an empty payload', () => {
    const out = evaluateDeviceRule(mapping, 'devices/d1/events', new Uint8Array());
    expect(out.kind === 'record' && json(out.data)).toEqual({ source: 'd1' });
  });

  it('forwards JSON that is not an object unchanged (the processor quarantines it)', () => {
    for (const p of ['[1,2]', '42', '"text"', 'null']) {
      const out = evaluateDeviceRule(mapping, 'devices/d1/events', bytes(p));
      expect(out.kind === 'record' && new TextDecoder().decode(out.data)).toBe(JSON.stringify(JSON.parse(p)));
    }
  });

  it('rejects what is not JSON, not UTF-8, over 128 KiB, or has no partition key', () => {
    const cases: [string, Uint8Array, string][] = [
      ['devices/d1/events', bytes('not json {'), 'invalid_json'],
      ['devices/d1/events', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'invalid_utf8'],
      ['devices/d1/events', new Uint8Array(IOT_MAX_PAYLOAD_BYTES + 1).fill(0x20), 'oversize'],
      ['devices//events', bytes('{}'), 'delivery_failed'],
    ];
    for (const [topic, payload, reason] of cases) {
      expect(evaluateDeviceRule(mapping, topic, payload)).toMatchObject({ kind: 'rejected', reason });
    }
    // Exactly at the limit is still taken.
    const atLimit = new Uint8Array(IOT_MAX_PAYLOAD_BYTES).fill(0x20);
    atLimit[0] = 0x7b;
    atLimit[IOT_MAX_PAYLOAD_BYTES - 1] = 0x7d;
    expect(evaluateDeviceRule(mapping, 'devices/d1/events', atLimit).kind).toBe('record');
  });

  it('property: any JSON object comes out with the topic source and every other field as it was', () => {
    const level = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/[/+#\0]/.test(s));
    fc.assert(
      fc.property(level, fc.dictionary(fc.string(), fc.jsonValue()), (source, obj) => {
        const out = evaluateDeviceRule(mapping, deviceTopic(mapping, source), bytes(JSON.stringify(obj)));
        expect(out.kind).toBe('record');
        if (out.kind !== 'record') return;
        const got = json(out.data);
        expect(got.source).toBe(source);
        const { source: _ignored, ...rest } = got;
        const { source: _dropped, ...expected } = JSON.parse(JSON.stringify(obj)) as Record<string, unknown>;
        expect(rest).toEqual(expected);
        expect(out.partitionKey).toBe(source);
      }),
    );
  });
});
