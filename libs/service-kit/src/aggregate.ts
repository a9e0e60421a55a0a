import { ParleyError, type RequestContext, scopedStreamId } from '@parley/contracts';
import { AggregateRepository, type Decider, type DomainEvent, type EventMetadata, type ExecuteOptions, type ExecuteResult, type NewEvent, StaleVersionError } from '@parley/eventsourcing';
import { CommandAlreadyAnswered, commandEventId, commandScope } from './command-answers';
import type { Kit } from './kit';

export interface AggregateDefinition<C, E extends DomainEvent, S extends { version: number }> {
  /** Its streams are `<context>/<organizationId>/<id>`; state projections of this context are written with its appends. */
  context: string;
  decider: Decider<C, E, S>;
  /** Aggregates whose state is kept in memory between commands. */
  cacheSize: number;
  /** The error a command gets when other writers kept winning the race (a 409 of the service's words; the kit marks it retryable). */
  tooManyConflicts: (id: string, command: C) => Error;
}

/**
 * The usual `tooManyConflicts`: "<What> <id> is changing too fast; try again" (a 409 the kit marks
 * retryable), naming the aggregate by its id rather than its stream.
 */
export const changingTooFast =
  (what: string) =>
  (streamId: string): ParleyError =>
    new ParleyError('CONFLICT', `${what} ${streamId.slice(streamId.lastIndexOf('/') + 1)} is changing too fast; try again`);

/** Who a command's events are by (the rest of their metadata comes from the command). */
export type Cause = Pick<EventMetadata, 'correlationId' | 'causationId' | 'userId'>;

/** The cause of a request's command, as its events' metadata records it: its correlation and causation ids, and the caller. */
export const causeOf = (ctx: RequestContext): Cause => ({ correlationId: ctx.correlationId, causationId: ctx.causationId, userId: ctx.actor.userId });

/** What a command decided and stored: the state after it, its events, and the result of its `before` step. */
export type Outcome<S, E, R> = Omit<ExecuteResult<S, E, R>, 'duplicate'>;

export interface AggregateExecuteOptions<S, E extends DomainEvent, R, A> extends Pick<ExecuteOptions<S, E, R>, 'before' | 'abandon' | 'expectedVersion'> {
  /**
   * What the command answers, made from its outcome. Under a transaction id it is stored in the
   * append's transaction (a retry gets it even when this process dies before answering), so the
   * handler must answer exactly this: return `answer` from execute. Default null (a 204).
   */
  answer?: (outcome: Outcome<S, E, R>) => A;
}

/**
 * An event-sourced aggregate on the kit: stream naming by organization, load (cached fold plus
 * the stream's new events), decide, append with the version decided on (retried on a conflict,
 * unless the caller named the version it expects: then a stale one is a 409), its inline
 * projections written in the append's transaction, the relay woken after the commit. Under a
 * command's transaction id (command-answers.ts) the event ids derive from it and the answer is
 * stored with the events.
 */
export class Aggregate<C, E extends DomainEvent, S extends { version: number }> {
  private readonly repository: AggregateRepository<C, E, S>;

  constructor(
    private readonly kit: Kit,
    private readonly def: AggregateDefinition<C, E, S>,
  ) {
    this.repository = new AggregateRepository<C, E, S>({
      store: kit.store,
      decider: def.decider,
      cacheSize: def.cacheSize,
      onCommitted: () => kit.committed(),
      tooManyConflicts: (_streamId, cmd) => retryable(def.tooManyConflicts(_streamId, cmd)),
    });
  }

  streamId(organizationId: string, id: string): string {
    return scopedStreamId(this.def.context, organizationId, id);
  }

  load(organizationId: string, id: string): Promise<S> {
    return this.repository.load(this.streamId(organizationId, id));
  }

  /** Decides `command` on aggregate `id` of `organizationId` at `time`, stores what it decided, and answers. */
  async execute<R = undefined, A = null>(
    organizationId: string,
    id: string,
    command: C,
    cause: Cause & { time: string },
    options: AggregateExecuteOptions<S, E, R, A> = {},
  ): Promise<Outcome<S, E, R> & { answer: A }> {
    const { time, ...by } = cause;
    const scope = commandScope.getStore();
    const streamId = this.streamId(organizationId, id);
    const answerOf = (outcome: Outcome<S, E, R>): A => (options.answer ? options.answer(outcome) : (null as A));
    try {
      const outcome = await this.kit.projections.inlineWrite(() =>
        this.repository.execute<R>(
          streamId,
          command,
          (event, _next, streamVersion) => ({ eventId: commandEventId(streamId, streamVersion), event, metadata: { ...by, organizationId, time } }),
          {
            before: options.before,
            abandon: options.abandon,
            expectedVersion: options.expectedVersion,
            inTransaction: async (sql, next, recorded, decided) => {
              await this.kit.projections.applyInline(sql, this.def.context, next, recorded);
              if (scope) await scope.record(sql, answerOf({ state: next, ...decided }));
            },
          },
        ),
      );
      // The events were stored under these ids by another attempt of this command: so was its answer.
      if (outcome.duplicate) throw new CommandAlreadyAnswered();
      return { ...outcome, answer: answerOf(outcome) };
    } catch (e) {
      if (e instanceof StaleVersionError) {
        throw new ParleyError('CONFLICT', `${this.def.context} ${id} is at version ${e.actualVersion}, not ${e.expectedVersion}: it changed since it was read; read it again`, {
          fields: ['version'],
          expectedVersion: e.expectedVersion,
          actualVersion: e.actualVersion,
        });
      }
      throw e;
    }
  }
}

/**
 * A command's append outside an Aggregate (a stream of its own, e.g. one per delivery): the same
 * guarantees under a transaction id (ids from it, `answer` stored in the append's transaction, a
 * second attempt answered with the first's), the relay woken after the commit. Answers `answer`.
 */
export async function appendAnswered<A>(kit: Kit, streamId: string, expectedVersion: number, events: Omit<NewEvent, 'eventId'>[], answer: A): Promise<A> {
  const scope = commandScope.getStore();
  const { duplicate } = await kit.store.append(
    streamId,
    expectedVersion,
    events.map((e, i) => ({ ...e, eventId: commandEventId(streamId, expectedVersion + i + 1) })),
    scope ? { inTransaction: (sql) => scope.record(sql, answer) } : {},
  );
  if (duplicate) throw new CommandAlreadyAnswered();
  kit.committed();
  return answer;
}

/** A conflict another attempt may not meet: the kit does not keep it as a transaction's answer. */
function retryable(e: Error): Error {
  return e instanceof ParleyError ? new ParleyError(e.code, e.message, { ...e.details, retryable: true }) : e;
}
