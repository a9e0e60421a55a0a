import { randomUUID } from 'node:crypto';
import { scopedStreamId } from '@parley/contracts';
import { AggregateRepository, type Decider, type DomainEvent, type EventMetadata, type ExecuteOptions } from '@parley/eventsourcing';
import type { Kit } from './kit';

export interface AggregateDefinition<C, E extends DomainEvent, S extends { version: number }> {
  /** Its streams are `<context>/<organizationId>/<id>`; state projections of this context are written with its appends. */
  context: string;
  decider: Decider<C, E, S>;
  /** Aggregates whose state is kept in memory between commands. */
  cacheSize: number;
  /** The error a command gets when other writers kept winning the race (a 409 of the service's words). */
  tooManyConflicts: (id: string, command: C) => Error;
}

/** Who a command's events are by (the rest of their metadata comes from the command). */
export type Cause = Pick<EventMetadata, 'correlationId' | 'causationId' | 'userId'>;

/**
 * An event-sourced aggregate on the kit: stream naming by organization, load (cached fold plus
 * the stream's new events), decide, append with the version decided on (retried on a conflict),
 * its inline projections written in the append's transaction, the relay woken after the commit.
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
      tooManyConflicts: (_streamId, cmd) => def.tooManyConflicts(_streamId, cmd),
    });
  }

  streamId(organizationId: string, id: string): string {
    return scopedStreamId(this.def.context, organizationId, id);
  }

  load(organizationId: string, id: string): Promise<S> {
    return this.repository.load(this.streamId(organizationId, id));
  }

  /** Decides `command` on aggregate `id` of `organizationId` at `time` and stores what it decided. */
  execute<R = undefined>(
    organizationId: string,
    id: string,
    command: C,
    cause: Cause & { time: string },
    options: Pick<ExecuteOptions<S, E, R>, 'before' | 'abandon'> = {},
  ): Promise<{ state: S; events: E[]; result?: R }> {
    const { time, ...by } = cause;
    return this.kit.projections.inlineWrite(() =>
      this.repository.execute<R>(this.streamId(organizationId, id), command, (event) => ({ eventId: randomUUID(), event, metadata: { ...by, organizationId, time } }), {
        ...options,
        inTransaction: (sql, next, recorded) => this.kit.projections.applyInline(sql, this.def.context, next, recorded),
      }),
    );
  }
}
