import { type Actor, type InteractionDomainEvent, ParleyError, authorize, mayAccess } from '@parley/contracts';
import type { Decider } from '@parley/eventsourcing';

/**
 * The Interaction aggregate as a pure decider: the record of one customer contact, its type and
 * free-form data. Time and ids come in with the command.
 */
export interface InteractionState {
  status: 'none' | 'created';
  /** The stream's version: 1 once created, one more with each update. */
  version: number;
  id: string;
  organizationId: string;
  createdBy: string;
  createdAt: string;
  type?: string;
  data: Record<string, unknown>;
}

export const initialState = (): InteractionState => ({ status: 'none', version: 0, id: '', organizationId: '', createdBy: '', createdAt: '', data: {} });

interface Base {
  interactionId: string;
  organizationId: string;
  actor: Actor;
  /** ISO-8601 instant of the decision. */
  now: string;
}
export type InteractionCommand = Base &
  (
    | { kind: 'create'; idChosenByCaller: boolean; type?: string; data?: Record<string, unknown> }
    /** An absent type or data is left as it is; a present data replaces all of it. */
    | { kind: 'update'; type?: string; data?: Record<string, unknown>; /** The caller created or joined a conference that named it. */ tookPart?: boolean }
  );

/** What a caller meets for an interaction that is not there, or that it may not see. */
export const notFound = (id: string) => new ParleyError('NOT_FOUND', `Interaction ${id} not found`);

/** How the caller stands to an interaction of its organization, in the access table's words. */
export type InteractionSituation = 'one the caller created' | 'one the caller took part in through a conference' | 'any other of its organization';

/** The situation: `tookPart` says whether the caller created or joined a conference that named the interaction (the read model knows). */
export const situationOf = (s: InteractionState, actor: Actor, tookPart: boolean): InteractionSituation =>
  s.createdBy === actor.userId ? 'one the caller created' : tookPart ? 'one the caller took part in through a conference' : 'any other of its organization';

/** An interaction of the caller's organization that the caller may see (else it answers not found, as another organization's). */
export const readable = (s: InteractionState, actor: Actor, tookPart: boolean): boolean =>
  s.status !== 'none' && s.organizationId === actor.organizationId && mayAccess('readInteraction', situationOf(s, actor, tookPart), actor);

export function decide(cmd: InteractionCommand, s: InteractionState): InteractionDomainEvent[] {
  switch (cmd.kind) {
    case 'create': {
      authorize('createInteraction', cmd.idChosenByCaller ? 'with an id the caller chooses' : 'with an id the server chooses', cmd.actor, () => notFound(cmd.interactionId));
      if (s.status !== 'none') throw new ParleyError('CONFLICT', `Interaction id ${cmd.interactionId} is already taken`, { fields: ['interactionId'] });
      return [
        {
          type: 'InteractionCreatedEvent',
          schemaVersion: 1,
          data: {
            interactionId: cmd.interactionId,
            organizationId: cmd.organizationId,
            createdBy: cmd.actor.userId,
            createdAt: cmd.now,
            ...(cmd.type !== undefined ? { type: cmd.type } : {}),
            data: cmd.data ?? {},
          },
        },
      ];
    }
    case 'update': {
      if (s.status === 'none' || s.organizationId !== cmd.actor.organizationId) throw notFound(cmd.interactionId);
      authorize('updateInteraction', situationOf(s, cmd.actor, cmd.tookPart ?? false), cmd.actor, () => notFound(cmd.interactionId));
      // Each update is recorded, even one that changes nothing: a client that sends its version gets the next one (as a JPA entity's save would give it).
      return [
        {
          type: 'InteractionUpdatedEvent',
          schemaVersion: 1,
          data: {
            interactionId: cmd.interactionId,
            organizationId: s.organizationId,
            updatedBy: cmd.actor.userId,
            updatedAt: cmd.now,
            ...(cmd.type !== undefined ? { type: cmd.type } : {}),
            ...(cmd.data !== undefined ? { data: cmd.data } : {}),
          },
        },
      ];
    }
  }
}

export function evolve(s: InteractionState, e: InteractionDomainEvent): InteractionState {
  switch (e.type) {
    case 'InteractionCreatedEvent': {
      const d = e.data;
      return { status: 'created', version: s.version + 1, id: d.interactionId, organizationId: d.organizationId, createdBy: d.createdBy, createdAt: d.createdAt, ...(d.type !== undefined ? { type: d.type } : {}), data: d.data };
    }
    case 'InteractionUpdatedEvent': {
      const d = e.data;
      return { ...s, version: s.version + 1, ...(d.type !== undefined ? { type: d.type } : {}), ...(d.data !== undefined ? { data: d.data } : {}) };
    }
  }
}

export const interactionDecider: Decider<InteractionCommand, InteractionDomainEvent, InteractionState> = { initialState, decide, evolve };
