/**
 * The fault injector of a chaos run: decides, from one seed, which invocations fail (before, during or after
 * their writes, by a reported failed record, or by running past the timeout), which batches are delivered
 * twice, and which DynamoDB and GetRecords requests are throttled or fail on the wire. It counts everything
 * it injects. The first occurrence of each fault is scheduled early so every kind happens in a short run.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse } from 'aws-lambda';
import { type ClientOptions, dynamodbClient, firehoseClient, kinesisClient } from '../../../common/aws.ts';
import { ShardlineError } from '../../../common/errors.ts';
import { type LambdaKinesisHandler, lambdaHandler } from '../../../processors/handler.ts';
import { createProcessor } from '../../../processors/index.ts';
import { createRng, type Rng } from '../../../producers/scenarios/prng.ts';
import type { LocalConnection } from '../cloud.ts';
import type { KinesisHandler } from '../esm.ts';
import { addWireFaults, DYNAMODB_ERRORS, KINESIS_ERRORS, type WireFault } from './middleware.ts';
import { type ChaosOptions, type ResolvedChaosOptions, resolveChaosOptions } from './options.ts';

/** A fault the injector makes an invocation suffer. */
export type HandlerFault = 'errorBefore' | 'errorDuring' | 'errorAfter' | 'reportedFailure' | 'timeout';

/** Everything injected so far. */
export interface InjectedCounts {
  /** Invocations that threw before touching DynamoDB. */
  errorBefore: number;
  /** Invocations that threw while their writes were in flight (the writes go on). */
  errorDuring: number;
  /** Invocations that threw after all their writes were applied. */
  errorAfter: number;
  /** Invocations that processed the batch, then reported one of its records as failed. */
  reportedFailure: number;
  /** Invocations that ran past the function timeout, then wrote as zombies. */
  timeout: number;
  /** Successful batches delivered a second time. */
  duplicate: number;
  /** DynamoDB requests answered ProvisionedThroughputExceededException (not sent). */
  dynamoThrottle: number;
  /** DynamoDB requests answered InternalServerError (not sent). */
  dynamoError: number;
  /** DynamoDB writes applied whose response was replaced by an HTTP 500. */
  dynamoLostResponse: number;
  /** GetRecords calls of the mapping answered ProvisionedThroughputExceededException. */
  getRecordsThrottle: number;
}

/** The error an injected handler fault throws. */
export class InjectedFaultError extends ShardlineError {
  constructor(kind: HandlerFault) {
    super('CHAOS_FAULT', `injected fault: ${kind}`, { retryable: true });
  }
}

/** Invocation numbers that get each handler fault first (so a short run sees every kind). */
const FIRST_HANDLER_FAULTS: ReadonlyMap<number, HandlerFault> = new Map([
  [3, 'errorBefore'],
  [6, 'errorDuring'],
  [9, 'errorAfter'],
  [12, 'reportedFailure'],
  [15, 'timeout'],
]);
const FIRST_DUPLICATE = 4;
/** DynamoDB request numbers that get each wire fault first. */
const FIRST_DYNAMO_FAULTS: ReadonlyMap<number, WireFault> = new Map([
  [40, 'throttle'],
  [80, 'error'],
  [120, 'lost'],
]);
const FIRST_GET_RECORDS_THROTTLE = 6;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class FaultInjector {
  readonly options: ResolvedChaosOptions;
  readonly counts: InjectedCounts = {
    errorBefore: 0,
    errorDuring: 0,
    errorAfter: 0,
    reportedFailure: 0,
    timeout: 0,
    duplicate: 0,
    dynamoThrottle: 0,
    dynamoError: 0,
    dynamoLostResponse: 0,
    getRecordsThrottle: 0,
  };
  readonly #handlerRng: Rng;
  readonly #duplicateRng: Rng;
  readonly #dynamoRng: Rng;
  readonly #kinesisRng: Rng;
  #invocations = 0;
  #successes = 0;
  #dynamoRequests = 0;
  #getRecords = 0;
  readonly #clients: { destroy(): void }[] = [];
  readonly #sleep: (ms: number) => Promise<void>;

  /** `sleep` waits out an injected timeout (tests pass a fake). @default setTimeout */
  constructor(options: ChaosOptions = {}, deps: { sleep?: (ms: number) => Promise<void> } = {}) {
    this.options = resolveChaosOptions(options);
    this.#sleep = deps.sleep ?? realSleep;
    const seed = this.options.seed;
    this.#handlerRng = createRng(seed);
    this.#duplicateRng = createRng(seed ^ 0x5bd1e995);
    this.#dynamoRng = createRng(seed ^ 0x27d4eb2f);
    this.#kinesisRng = createRng(seed ^ 0x165667b1);
  }

  /** The fault for the next invocation, if any. */
  nextHandlerFault(): HandlerFault | undefined {
    const n = ++this.#invocations;
    const first = FIRST_HANDLER_FAULTS.get(n);
    if (first !== undefined) return first;
    const o = this.options;
    let r = this.#handlerRng.next();
    const bands: [number, HandlerFault][] = [
      [o.handlerErrorRate / 3, 'errorBefore'],
      [o.handlerErrorRate / 3, 'errorDuring'],
      [o.handlerErrorRate / 3, 'errorAfter'],
      [o.reportedFailureRate, 'reportedFailure'],
      [o.timeoutRate, 'timeout'],
    ];
    for (const [p, kind] of bands) {
      if (r < p) return kind;
      r -= p;
    }
    return undefined;
  }

  /** Wraps a handler so its invocations suffer the scheduled faults. */
  wrapHandler(inner: KinesisHandler): KinesisHandler {
    return async (event, context) => {
      const fault = this.nextHandlerFault();
      if (fault === undefined) return inner(event, context);
      this.counts[fault]++;
      switch (fault) {
        case 'errorBefore':
          throw new InjectedFaultError(fault);
        case 'errorDuring': {
          // The process "crashes" with writes in flight: they still land, nobody awaits them.
          inner(event, context).catch(() => undefined);
          await this.#sleep(Math.floor(this.#handlerRng.next() * 30));
          throw new InjectedFaultError(fault);
        }
        case 'errorAfter':
          await inner(event, context);
          throw new InjectedFaultError(fault);
        case 'reportedFailure': {
          const response = (await inner(event, context)) as KinesisStreamBatchResponse | undefined;
          if ((response?.batchItemFailures?.length ?? 0) > 0) return response;
          const records = event.Records;
          const at = records[Math.floor(this.#handlerRng.next() * records.length)];
          // The rest of the response stays (with a tumbling window, the state it returned).
          return { ...response, batchItemFailures: [{ itemIdentifier: at?.kinesis.sequenceNumber ?? '' }] };
        }
        case 'timeout': {
          // Sleeps past the timeout, then writes as a zombie while the mapping already retries the batch.
          await this.#sleep(
            context.getRemainingTimeInMillis() + 50 + Math.floor(this.#handlerRng.next() * 500),
          );
          return inner(event, context);
        }
      }
    };
  }

  /** The `duplicateDelivery` hook of the event source mapping. */
  readonly duplicateDelivery = (_shardId: string, _records: number): boolean => {
    const n = ++this.#successes;
    const dup = n === FIRST_DUPLICATE || this.#duplicateRng.chance(this.options.duplicateRate);
    if (dup) this.counts.duplicate++;
    return dup;
  };

  #dynamoFault(commandName: string): WireFault | undefined {
    const n = ++this.#dynamoRequests;
    const o = this.options;
    let fault = FIRST_DYNAMO_FAULTS.get(n);
    if (fault === undefined) {
      const r = this.#dynamoRng.next();
      if (r < o.dynamoThrottleRate) fault = 'throttle';
      else if (r < o.dynamoThrottleRate + o.dynamoErrorRate) fault = 'error';
      else if (r < o.dynamoThrottleRate + o.dynamoErrorRate + o.dynamoLostResponseRate) fault = 'lost';
    }
    if (fault === 'lost' && commandName !== 'PutItemCommand') fault = 'error';
    if (fault === 'throttle') this.counts.dynamoThrottle++;
    else if (fault === 'error') this.counts.dynamoError++;
    else if (fault === 'lost') this.counts.dynamoLostResponse++;
    return fault;
  }

  #kinesisFault(commandName: string): WireFault | undefined {
    if (commandName !== 'GetRecordsCommand') return undefined;
    const n = ++this.#getRecords;
    if (n === FIRST_GET_RECORDS_THROTTLE || this.#kinesisRng.chance(this.options.getRecordsThrottleRate)) {
      this.counts.getRecordsThrottle++;
      return 'throttle';
    }
    return undefined;
  }

  /** Adds the DynamoDB wire faults to a real client (below its retry strategy). */
  instrumentDynamo(client: DynamoDBClient): DynamoDBClient {
    addWireFaults(client, (c) => this.#dynamoFault(c), DYNAMODB_ERRORS);
    return client;
  }

  /** Adds the GetRecords throttling to a real client (below its retry strategy). */
  instrumentKinesis(client: KinesisClient): KinesisClient {
    addWireFaults(client, (c) => this.#kinesisFault(c), KINESIS_ERRORS);
    return client;
  }

  /**
   * The real processor on an instrumented DynamoDB client of the local cloud `connection`, wrapped with the
   * handler faults. Built at the first invocation, like a cold start.
   */
  processor(connection: LocalConnection): KinesisHandler {
    let built: LambdaKinesisHandler | undefined;
    const inner: KinesisHandler = (event, context) => {
      built ??= this.#build(connection);
      return built(event, context);
    };
    return this.wrapHandler(inner);
  }

  #build({ config, clientOptions }: LocalConnection): LambdaKinesisHandler {
    const ddb = this.instrumentDynamo(dynamodbClient(clientOptions('dynamodb')));
    const firehose = firehoseClient(clientOptions('firehose'));
    this.#clients.push(ddb, firehose);
    return lambdaHandler(createProcessor({ config, clients: { dynamodb: ddb, firehose } }));
  }

  /** A Kinesis client for the event source mapping, with GetRecords throttling. */
  esmKinesisClient(options: ClientOptions): KinesisClient {
    const client = this.instrumentKinesis(kinesisClient(options));
    this.#clients.push(client);
    return client;
  }

  /** Destroys the clients this injector created. */
  close(): void {
    for (const c of this.#clients.splice(0)) c.destroy();
  }
}
