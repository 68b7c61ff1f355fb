/**
 * The local on-failure queue's depth over SQS's API (AWS JSON 1.0, `X-Amz-Target: AmazonSQS.<Op>`), so the
 * real `@aws-sdk/client-sqs` reads it as on AWS. The local event source mapping writes its OnFailure
 * records as files under `<dataDir>/onfailure/` (an S3 destination layout); this answers
 * GetQueueAttributes for the one queue URL the local stack outputs, with `ApproximateNumberOfMessages` =
 * the number of those records, and GetQueueUrl. Anything else is `UnsupportedOperation`; an unknown queue
 * is `AWS.SimpleQueueService.NonExistentQueue` (`QueueDoesNotExist`), as SQS answers.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { countFiles } from '../../common/files.ts';
import { LOCAL_ACCOUNT } from './private/arn.ts';
import { serveOnLoopback } from './private/http.ts';

const TARGET_PREFIX = 'AmazonSQS.';

export interface LocalQueue {
  readonly name: string;
  readonly region: string;
  /** Folder whose files are the queue's messages. */
  readonly dir: string;
}

export function queueUrl(endpoint: string, queue: LocalQueue): string {
  return `${endpoint}/${LOCAL_ACCOUNT}/${queue.name}`;
}

/** Handles one call. */
export function handleSqs(
  endpoint: string,
  queue: LocalQueue,
  operation: string,
  body: Record<string, unknown>,
): { status: number; body: unknown } {
  const missing = () => ({
    status: 400,
    body: {
      __type: 'com.amazonaws.sqs#QueueDoesNotExist',
      message: 'The specified queue does not exist.',
    },
  });
  const url = queueUrl(endpoint, queue);
  switch (operation) {
    case 'GetQueueUrl':
      return body.QueueName === queue.name ? { status: 200, body: { QueueUrl: url } } : missing();
    case 'GetQueueAttributes': {
      if (typeof body.QueueUrl !== 'string' || !body.QueueUrl.endsWith(`/${LOCAL_ACCOUNT}/${queue.name}`))
        return missing();
      const all: Record<string, string> = {
        ApproximateNumberOfMessages: String(countFiles(queue.dir)),
        ApproximateNumberOfMessagesNotVisible: '0',
        ApproximateNumberOfMessagesDelayed: '0',
        QueueArn: `arn:aws:sqs:${queue.region}:${LOCAL_ACCOUNT}:${queue.name}`,
      };
      const names = Array.isArray(body.AttributeNames) ? (body.AttributeNames as unknown[]).map(String) : [];
      const pick = names.includes('All') ? Object.keys(all) : names.filter((n) => n in all);
      return { status: 200, body: { Attributes: Object.fromEntries(pick.map((n) => [n, all[n]!])) } };
    }
    default:
      return {
        status: 400,
        body: {
          __type: 'com.amazonaws.sqs#UnsupportedOperation',
          message: `${operation} is not supported by the local on-failure queue (it answers GetQueueAttributes and GetQueueUrl).`,
        },
      };
  }
}

export interface SqsServer {
  readonly endpoint: string;
  readonly queueUrl: string;
  close(): Promise<void>;
}

export async function startSqs(queue: LocalQueue, port = 0): Promise<SqsServer> {
  let endpoint = '';
  const server = await serveOnLoopback((req, res) => serve(endpoint, queue, req, res), port);
  endpoint = server.endpoint;
  return { endpoint, queueUrl: queueUrl(endpoint, queue), close: server.close };
}

async function serve(endpoint: string, queue: LocalQueue, req: IncomingMessage, res: ServerResponse) {
  const send = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/x-amz-json-1.0',
      'Content-Length': Buffer.byteLength(text),
      'x-amzn-RequestId': randomUUID(),
      ...(status >= 400 && typeof body === 'object' && body !== null && '__type' in body
        ? { 'x-amzn-query-error': queryError(String((body as { __type: string }).__type)) }
        : {}),
    });
    res.end(text);
  };
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    if (!target.startsWith(TARGET_PREFIX)) {
      send(400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `Unknown target ${target}` });
      return;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      send(400, { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'Body is not JSON' });
      return;
    }
    const r = handleSqs(endpoint, queue, target.slice(TARGET_PREFIX.length), body);
    send(r.status, r.body);
  } catch (e) {
    send(500, { __type: 'com.amazonaws.sqs#InternalError', message: (e as Error).message });
  }
}

/** The query-compatible error code SQS sends in `x-amzn-query-error` (what older SDKs read). */
function queryError(type: string): string {
  const code = type.split('#')[1] ?? type;
  return `${code === 'QueueDoesNotExist' ? 'AWS.SimpleQueueService.NonExistentQueue' : code};Sender`;
}
