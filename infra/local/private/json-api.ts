/**
 * The AWS JSON 1.1 protocol server the local cloud's service APIs (Firehose, Athena) share: POST with
 * `X-Amz-Target: <prefix><Operation>`, a JSON body, a JSON answer (`__type` and a message on errors).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOn } from './http.ts';

/** One operation's answer: HTTP status and JSON body. */
export interface JsonApiResponse {
  readonly status: number;
  readonly body: unknown;
}

/** How one service speaks the protocol. */
export interface JsonApiProtocol {
  /** `X-Amz-Target` prefix, e.g. `AmazonAthena.`. */
  readonly targetPrefix: string;
  /** Largest request body accepted, in bytes; larger ones get 413 with {@link oversizeErrorType}. */
  readonly maxBodyBytes: number;
  /** The error message's key: `Message` (Athena) or `message` (Firehose). */
  readonly messageKey: 'Message' | 'message';
  /** `__type` of the 413 answer to an oversize body. */
  readonly oversizeErrorType: string;
  /** `__type` of the 500 answer when an operation throws. */
  readonly internalErrorType: string;
  /** Answers one operation (the target without its prefix) on a parsed body. */
  handle(operation: string, body: unknown): JsonApiResponse;
}

/** A running API server. */
export interface JsonApiServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Serves `protocol` on 127.0.0.1 (port 0: a free one). */
export async function startJsonApiServer(protocol: JsonApiProtocol, port = 0): Promise<JsonApiServer> {
  const server: Server = createServer((req, res) => {
    void serve(protocol, req, res);
  });
  server.keepAliveTimeout = 5_000;
  const bound = await listenOn(server, '127.0.0.1', port);
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(p: JsonApiProtocol, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const send = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/x-amz-json-1.1',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': randomUUID(),
    });
    res.end(text);
  };
  const error = (status: number, type: string, message: string) =>
    send(status, { __type: type, [p.messageKey]: message });
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).byteLength;
      if (size > p.maxBodyBytes) {
        error(413, p.oversizeErrorType, `Request body exceeds ${p.maxBodyBytes} bytes.`);
        req.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method !== 'POST' || !target.startsWith(p.targetPrefix)) {
      error(400, 'UnknownOperationException', `Unknown target ${JSON.stringify(target)}.`);
      return;
    }
    let body: unknown;
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      body = text.length === 0 ? {} : JSON.parse(text);
    } catch {
      error(400, 'SerializationException', 'Request body is not valid JSON.');
      return;
    }
    const response = p.handle(target.slice(p.targetPrefix.length), body);
    send(response.status, response.body);
  } catch (e) {
    error(500, p.internalErrorType, (e as Error).message);
  }
}
