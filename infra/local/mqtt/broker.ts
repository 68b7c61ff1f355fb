/**
 * The local cloud's MQTT broker: aedes (MQTT 3.1 and 3.1.1; aedes does not implement MQTT 5 and answers a
 * v5 CONNECT with "unacceptable protocol version") on a loopback TCP port, with the device topic rule
 * applied to every PUBLISH on its topics.
 *
 * Acknowledgement: a QoS 1 PUBLISH on the rule's topics is acknowledged (PUBACK) only once the rule has put
 * it on the stream or in quarantine. IoT Core acknowledges on receipt and runs the rule afterwards from its
 * own durable store; the local broker has no durable store, so it holds the PUBACK instead. That is what
 * makes "a message the broker acknowledged is never lost" hold across a broker restart: an unacknowledged
 * message is resent by the client (MQTT 3.1.1 §4.4), an acknowledged one is already on the stream.
 * QoS 0 messages are acknowledged by nobody and go to the rule without waiting.
 *
 * A payload over IoT Core's 128 KiB limit is rejected as IoT Core does: no PUBACK, the connection is
 * closed; the message is counted and quarantined as `oversize`. Persistent sessions (clean session off)
 * and QoS 1 delivery to subscribers are aedes's own, kept in memory for the life of the broker.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import { describeValue, ServiceError } from '../../../common/errors.ts';
import { evaluateDeviceRule } from '../../../common/iot.ts';
import type { DeviceRule } from './rule.ts';

export interface LocalMqttBrokerOptions {
  /** The rule applied to publishes on its topics. */
  readonly rule: DeviceRule;
  /** TCP port on 127.0.0.1, 0–65535; 0 picks a free one. @default 0 */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

/** Counters of the broker itself (the rule has its own, {@link DeviceRule.stats}). */
export interface LocalMqttBrokerStats {
  /** Clients connected now. */
  connected: number;
  /** PUBLISH packets received from clients (every topic). */
  published: number;
  /** Connections closed for a protocol or authorization error (oversize payloads among them). */
  clientErrors: number;
}

/** A running broker. */
export class LocalMqttBroker {
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly #aedes: Aedes;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #stats = { published: 0, clientErrors: 0 };
  #closing: Promise<void> | undefined;

  private constructor(aedes: Aedes, server: Server, port: number) {
    this.#aedes = aedes;
    this.#server = server;
    this.port = port;
    this.url = `mqtt://127.0.0.1:${port}`;
  }

  static async start(options: LocalMqttBrokerOptions): Promise<LocalMqttBroker> {
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new ServiceError(
        `mqtt port must be an integer between 0 and 65535; received ${describeValue(port)}`,
      );
    }
    const log = options.log ?? (() => undefined);
    const { rule } = options;
    let counters: { published: number; clientErrors: number } | undefined;
    const aedes = await Aedes.createBroker({
      authorizePublish: (client: Client | null, packet: PublishPacket, callback) => {
        if (client !== null && counters) counters.published++;
        if (packet.topic.startsWith('$SYS/')) {
          callback(new Error('$SYS/ topic is reserved'));
          return;
        }
        const payload =
          typeof packet.payload === 'string' ? Buffer.from(packet.payload) : (packet.payload as Buffer);
        const outcome = evaluateDeviceRule(rule.mapping, packet.topic, payload);
        if (outcome.kind === 'no_match') {
          callback(null);
          return;
        }
        const settled = rule.apply(outcome, { topic: packet.topic, payload, clientId: client?.id ?? '' });
        if (outcome.kind === 'rejected' && outcome.reason === 'oversize') {
          // IoT Core rejects the publish and the client is disconnected; an error here makes aedes close it.
          const refuse = () => callback(new Error(outcome.detail));
          settled.then(refuse, refuse);
          return;
        }
        if (packet.qos === 0) {
          callback(null);
          settled.catch((err: Error) => log(`[mqtt] QoS 0 message on ${packet.topic}: ${err.message}`));
          return;
        }
        settled.then(
          () => callback(null),
          (err: Error) => callback(err),
        );
      },
    });
    aedes.on('clientError', (client, err) => {
      if (counters) counters.clientErrors++;
      log(`[mqtt] client ${JSON.stringify(client?.id ?? '?')} disconnected: ${err.message}`);
    });
    aedes.on('connectionError', (_client, err) => {
      if (counters) counters.clientErrors++;
      log(`[mqtt] connection refused: ${err.message}`);
    });
    const server = createServer(aedes.handle as (socket: Socket) => void);
    const bound = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    }).catch(async (err: Error) => {
      await new Promise<void>((r) => aedes.close(() => r()));
      throw new ServiceError(`mqtt broker could not listen on 127.0.0.1:${port}: ${err.message}`, {
        cause: err,
      });
    });
    const broker = new LocalMqttBroker(aedes, server, bound);
    counters = broker.#stats;
    server.on('connection', (socket) => {
      broker.#sockets.add(socket);
      socket.once('close', () => broker.#sockets.delete(socket));
    });
    log(`[mqtt] ${broker.url}: rule ${rule.mapping.sql}`);
    return broker;
  }

  stats(): LocalMqttBrokerStats {
    return { connected: this.#aedes.connectedClients ?? 0, ...this.#stats };
  }

  /**
   * Closes the listener and every connection at once (clients see the broker go away, as on a crash; the
   * MQTT clients resend their unacknowledged QoS 1 messages to the next broker). Messages already handed to
   * the rule still settle: drain the rule after this. Idempotent.
   */
  stop(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const s of this.#sockets) s.destroy();
      await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
      await closed;
    })();
    return this.#closing;
  }
}
