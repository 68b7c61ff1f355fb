/**
 * The local CloudFormation: DescribeStacks over the AWS query protocol (`POST /`, form-encoded
 * `Action=DescribeStacks&StackName=...&Version=2010-05-15`, XML response), answering one stack whose
 * outputs name the local cloud's resources under the keys the deployed stack uses (`infra/aws/outputs.ts`).
 * So `--target aws --stack Shardline` resolves against the local cloud exactly as against AWS, with the real
 * `@aws-sdk/client-cloudformation` and only `AWS_ENDPOINT_URL_CLOUDFORMATION` set.
 *
 * An unknown stack gets CloudFormation's own error: 400, `ValidationError`, "Stack with id X does not exist".
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STACK_OUTPUTS, type StackOutputKey } from '../aws/outputs.ts';
import { LOCAL_ACCOUNT } from './private/arn.ts';
import { type LoopbackServer, serveOnLoopback } from './private/http.ts';

const XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

export interface LocalStack {
  readonly name: string;
  readonly region: string;
  /** Output values by key (`streamName` → the local stream's name). Keys absent are not output. */
  readonly outputs: Partial<Record<StackOutputKey, string>>;
  /** When the stack "was created", epoch ms. */
  readonly createdAt: number;
}

export interface QueryResponse {
  readonly status: number;
  readonly xml: string;
}

function esc(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

export function stackId(stack: LocalStack): string {
  return `arn:aws:cloudformation:${stack.region}:${LOCAL_ACCOUNT}:stack/${stack.name}/00000000-0000-4000-8000-000000000000`;
}

function errorXml(code: string, message: string, requestId: string): QueryResponse {
  return {
    status: 400,
    xml: `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

function stackXml(stack: LocalStack): string {
  const outputs = (Object.entries(stack.outputs) as [StackOutputKey, string][])
    .map(
      ([k, v]) =>
        `<member><OutputKey>${esc(STACK_OUTPUTS[k])}</OutputKey><OutputValue>${esc(v)}</OutputValue></member>`,
    )
    .join('');
  return `<member><StackId>${esc(stackId(stack))}</StackId><StackName>${esc(stack.name)}</StackName><CreationTime>${new Date(stack.createdAt).toISOString()}</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><DisableRollback>false</DisableRollback><Outputs>${outputs}</Outputs><Tags/><EnableTerminationProtection>false</EnableTerminationProtection><DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus></DriftInformation></member>`;
}

/** Handles one query-protocol request body. Pure. */
export function handleQuery(
  stack: LocalStack,
  form: URLSearchParams,
  requestId = randomUUID(),
): QueryResponse {
  const action = form.get('Action') ?? '';
  if (action !== 'DescribeStacks') {
    return errorXml(
      'InvalidAction',
      `Could not find operation ${action} for version ${form.get('Version') ?? '2010-05-15'} (the local CloudFormation answers DescribeStacks)`,
      requestId,
    );
  }
  const name = form.get('StackName');
  if (name !== null && name !== stack.name && name !== stackId(stack)) {
    return errorXml('ValidationError', `Stack with id ${name} does not exist`, requestId);
  }
  return {
    status: 200,
    xml: `<DescribeStacksResponse xmlns="${XMLNS}"><DescribeStacksResult><Stacks>${stackXml(stack)}</Stacks></DescribeStacksResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></DescribeStacksResponse>`,
  };
}

export type CloudFormationServer = LoopbackServer;

/** Serves DescribeStacks on 127.0.0.1 (port 0: a free one). */
export function startCloudFormation(stack: LocalStack, port = 0): Promise<CloudFormationServer> {
  return serveOnLoopback((req, res) => serve(stack, req, res), port);
}

async function serve(stack: LocalStack, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  const send = (r: QueryResponse) => {
    res.writeHead(r.status, {
      'Content-Type': 'text/xml',
      'Content-Length': Buffer.byteLength(r.xml),
      'x-amzn-RequestId': requestId,
    });
    res.end(r.xml);
  };
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).byteLength;
      if (size > 1024 * 1024) {
        send(errorXml('ValidationError', 'Request body too large', requestId));
        req.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    send(handleQuery(stack, req.method === 'POST' ? new URLSearchParams(text) : query, requestId));
  } catch (e) {
    send({
      status: 500,
      xml: `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>${esc((e as Error).message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    });
  }
}
