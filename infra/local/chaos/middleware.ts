/**
 * Fault middleware for AWS SDK v3 clients. It sits in the `deserialize` step below the deserializer, so an
 * injected fault is a real HTTP error response: the SDK's own deserializer turns it into the service's
 * exception and its retry strategy retries it, exactly as with a real throttle or 500.
 */
import type { Readable } from 'node:stream';
import type { DeserializeHandler, DeserializeHandlerOutput, HandlerExecutionContext } from '@smithy/types';

/** What to do with one request. */
export type WireFault =
  /** Not sent; answered 400 ProvisionedThroughputExceededException. */
  | 'throttle'
  /** Not sent; answered 500 InternalServerError / InternalFailure. */
  | 'error'
  /** Sent and applied; the response is replaced by a 500 (the client cannot know it was applied). */
  | 'lost';

/** Decides per request (by command name, e.g. `PutItemCommand`); undefined lets it through. */
export type WireFaultPolicy = (commandName: string) => WireFault | undefined;

interface StackOwner {
  readonly middlewareStack: {
    add(
      middleware: (
        next: DeserializeHandler<object, object>,
        context: HandlerExecutionContext,
      ) => DeserializeHandler<object, object>,
      options: { step: 'deserialize'; priority: 'low'; name: string },
    ): void;
  };
}

/** The error type names of each service's JSON protocol. */
export interface ErrorTypes {
  readonly contentType: string;
  readonly throttle: string;
  readonly error: string;
}

export const DYNAMODB_ERRORS: ErrorTypes = {
  contentType: 'application/x-amz-json-1.0',
  throttle: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  error: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
};

export const KINESIS_ERRORS: ErrorTypes = {
  contentType: 'application/x-amz-json-1.1',
  throttle: 'ProvisionedThroughputExceededException',
  error: 'InternalFailure',
};

let requestIds = 0;

function errorResponse(status: number, type: string, contentType: string) {
  const body = new TextEncoder().encode(
    JSON.stringify({ __type: type, message: `injected by a chaos run (${type.split('#').pop()})` }),
  );
  return {
    statusCode: status,
    reason: status === 400 ? 'Bad Request' : 'Internal Server Error',
    headers: {
      'content-type': contentType,
      'content-length': String(body.length),
      'x-amzn-requestid': `chaos-${++requestIds}`,
      'x-amzn-errortype': type.split('#').pop() ?? type,
    },
    body,
  };
}

/** Adds the fault middleware to `client` (a DynamoDBClient, KinesisClient...). */
export function addWireFaults(client: object, policy: WireFaultPolicy, errors: ErrorTypes): void {
  (client as StackOwner).middlewareStack.add(
    (next, context) =>
      async (args): Promise<DeserializeHandlerOutput<object>> => {
        const fault = policy(context.commandName ?? '');
        if (fault === 'throttle')
          return { response: errorResponse(400, errors.throttle, errors.contentType) };
        if (fault === 'error') return { response: errorResponse(500, errors.error, errors.contentType) };
        const result = await next(args);
        if (fault === 'lost') {
          (result.response as { body?: Readable }).body?.resume?.(); // drain the real answer
          return { response: errorResponse(500, errors.error, errors.contentType) };
        }
        return result;
      },
    { step: 'deserialize', priority: 'low', name: 'shardlineChaosFaults' },
  );
}
