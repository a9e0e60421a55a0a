import type { Actor, InteractionDomainEvent } from '@parley/contracts';
import { deciderSpec } from '@parley/eventsourcing';
import { type InteractionCommand, interactionDecider, readable } from './decider';

const spec = deciderSpec(interactionDecider);
const T0 = '2026-11-30T10:00:00.000Z';
const T1 = '2026-11-30T10:05:00.000Z';
const agent: Actor = { userId: 'agent-1', organizationId: 'org-a', roles: ['AGENT'] };
const otherAgent: Actor = { userId: 'agent-2', organizationId: 'org-a', roles: ['AGENT'] };
const customer: Actor = { userId: 'cust-1', organizationId: 'org-a', roles: ['CUSTOMER'] };
const otherCustomer: Actor = { userId: 'cust-2', organizationId: 'org-a', roles: ['CUSTOMER'] };
const service: Actor = { userId: 'svc', organizationId: 'org-a', roles: ['SERVICE'] };
const outsider: Actor = { userId: 'agent-1', organizationId: 'org-b', roles: ['ADMIN'] };

const create = (actor: Actor, c: Partial<Extract<InteractionCommand, { kind: 'create' }>> = {}): InteractionCommand => ({
  kind: 'create',
  interactionId: 'i-1',
  organizationId: actor.organizationId,
  actor,
  now: T0,
  idChosenByCaller: false,
  ...c,
});
const update = (actor: Actor, c: { type?: string; data?: Record<string, unknown> } = {}): InteractionCommand => ({ kind: 'update', interactionId: 'i-1', organizationId: actor.organizationId, actor, now: T1, ...c });
const created = (createdBy = 'agent-1', extra: { type?: string; data?: Record<string, unknown> } = {}): InteractionDomainEvent => ({
  type: 'InteractionCreatedEvent',
  schemaVersion: 1,
  data: { interactionId: 'i-1', organizationId: 'org-a', createdBy, createdAt: T0, ...(extra.type !== undefined ? { type: extra.type } : {}), data: extra.data ?? {} },
});
const updated = (updatedBy: string, extra: { type?: string; data?: Record<string, unknown> }): InteractionDomainEvent => ({
  type: 'InteractionUpdatedEvent',
  schemaVersion: 1,
  data: { interactionId: 'i-1', organizationId: 'org-a', updatedBy, updatedAt: T1, ...extra },
});

describe('Interaction decider', () => {
  describe('create', () => {
    it('creates with the caller as creator, the type and data given (empty data when none)', () => {
      const s = spec.given([]).when(create(agent, { type: 'video call', data: { genesys: 'conv-1' } })).then([created('agent-1', { type: 'video call', data: { genesys: 'conv-1' } })]);
      expect(s).toMatchObject({ status: 'created', version: 1, id: 'i-1', organizationId: 'org-a', createdBy: 'agent-1', createdAt: T0, type: 'video call', data: { genesys: 'conv-1' } });
      expect(spec.given([]).when(create(agent)).then([created()]).data).toEqual({});
    });
    it('lets every role create with an id the server chooses', () => {
      for (const actor of [agent, customer, service]) spec.given([]).when(create(actor)).then([created(actor.userId)]);
    });
    it("keeps an integration's id for staff, and refuses a customer that chooses one (403)", () => {
      spec.given([]).when(create(agent, { idChosenByCaller: true })).then([created()]);
      spec.given([]).when(create(customer, { idChosenByCaller: true })).thenFails({ code: 'FORBIDDEN' });
    });
    it('refuses an id that exists with 409 naming it', () => {
      spec.given([created()]).when(create(agent, { idChosenByCaller: true })).thenFails({ code: 'CONFLICT', message: /i-1 is already taken/ });
    });
  });

  describe('update', () => {
    it('replaces the type and all of the data when both are given', () => {
      const s = spec
        .given([created('agent-1', { type: 'chat', data: { a: 1, b: 2 } })])
        .when(update(agent, { type: 'video call', data: { c: 3 } }))
        .then([updated('agent-1', { type: 'video call', data: { c: 3 } })]);
      expect(s).toMatchObject({ version: 2, type: 'video call', data: { c: 3 } });
    });
    it('leaves an omitted type or data as it was', () => {
      const onlyType = spec.given([created('agent-1', { type: 'chat', data: { a: 1 } })]).when(update(agent, { type: 'email' })).then([updated('agent-1', { type: 'email' })]);
      expect(onlyType).toMatchObject({ type: 'email', data: { a: 1 } });
      const onlyData = spec.given([created('agent-1', { type: 'chat', data: { a: 1 } })]).when(update(agent, { data: {} })).then([updated('agent-1', { data: {} })]);
      expect(onlyData).toMatchObject({ type: 'chat', data: {} });
    });
    it('records an update that changes nothing, so the version moves on', () => {
      expect(spec.given([created()]).when(update(agent)).then([updated('agent-1', {})]).version).toBe(2);
    });
    it('lets staff update one another user created, and its creator (a customer too)', () => {
      spec.given([created('agent-1')]).when(update(otherAgent, { type: 'x' })).then([updated('agent-2', { type: 'x' })]);
      spec.given([created('agent-1')]).when(update(service, { type: 'x' })).then([updated('svc', { type: 'x' })]);
      spec.given([created('cust-1')]).when(update(customer, { type: 'x' })).then([updated('cust-1', { type: 'x' })]);
    });
    it("hides one a customer did not create (404), and another organization's from everyone", () => {
      spec.given([created('agent-1')]).when(update(customer, { type: 'x' })).thenFails({ code: 'NOT_FOUND', message: /Interaction i-1 not found/ });
      spec.given([created('cust-1')]).when(update(otherCustomer, { type: 'x' })).thenFails({ code: 'NOT_FOUND' });
      spec.given([created('agent-1')]).when(update(outsider, { type: 'x' })).thenFails({ code: 'NOT_FOUND' });
    });
    it('is 404 for an interaction that does not exist', () => {
      spec.given([]).when(update(agent, { type: 'x' })).thenFails({ code: 'NOT_FOUND' });
    });
  });

  describe('customers that took part through a conference', () => {
    it('may read one they did not create but may not change it (403); staff are not asked', () => {
      const byAgent = spec.given([created('agent-1')]).state;
      expect(readable(byAgent, customer, true)).toBe(true);
      expect(readable(byAgent, customer, false)).toBe(false);
      spec.given([created('agent-1')]).when({ ...update(customer, { type: 'x' }), tookPart: true } as InteractionCommand).thenFails({ code: 'FORBIDDEN', message: /update an interaction \(one the caller took part in through a conference\)/ });
      spec.given([created('agent-1')]).when({ ...update(otherAgent, { type: 'x' }), tookPart: true } as InteractionCommand).then([updated('agent-2', { type: 'x' })]);
    });
  });

  describe('readable', () => {
    it('is true for staff of the organization and for its creator, false for other customers, other organizations and no interaction', () => {
      const byAgent = spec.given([created('agent-1')]).state;
      const byCustomer = spec.given([created('cust-1')]).state;
      expect([agent, otherAgent, service].map((a) => readable(byAgent, a, false))).toEqual([true, true, true]);
      expect(readable(byAgent, customer, false)).toBe(false);
      expect(readable(byCustomer, customer, false)).toBe(true);
      expect(readable(byCustomer, otherCustomer, false)).toBe(false);
      expect(readable(byAgent, outsider, true)).toBe(false);
      expect(readable(spec.given([]).state, agent, false)).toBe(false);
    });
  });
});
