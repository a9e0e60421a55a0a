import type { Actor, SnapshotDomainEvent, StoredFile } from '@parley/contracts';
import { deciderSpec } from '@parley/eventsourcing';
import { type CameraRequestCommand, cameraRequestDecider } from './camera-request';
import { type AssetCommand, assetDecider, assetReadable, fileTransferDecider, fileTransferReadable, fileTransfersVisibleTo, parseRoles } from './files';
import { type SnapshotCommand, snapshotDecider, snapshotReadable, snapshotsVisibleTo, toSnapshot } from './snapshot';
import { checkStorageQuota } from './storage-quota';

type Ev<T extends SnapshotDomainEvent['type']> = Extract<SnapshotDomainEvent, { type: T }>;

const T0 = '2026-11-30T10:00:00.000Z';
const T1 = '2026-11-30T10:01:00.000Z';
const agent: Actor = { userId: 'agent-1', organizationId: 'org-a', roles: ['AGENT'] };
const customer: Actor = { userId: 'cust-1', organizationId: 'org-a', roles: ['CUSTOMER'] };
const otherCustomer: Actor = { userId: 'cust-2', organizationId: 'org-a', roles: ['CUSTOMER'] };
const otherAgent: Actor = { userId: 'agent-2', organizationId: 'org-a', roles: ['AGENT'] };
const admin: Actor = { userId: 'admin-1', organizationId: 'org-a', roles: ['ADMIN'] };
const outsider: Actor = { userId: 'agent-1', organizationId: 'org-b', roles: ['ADMIN'] };

const png: StoredFile = { key: 'org-a/interactions/int-1/k1', size: 10, sha256: 'a'.repeat(64), mimeType: 'image/png', extension: 'png' };
const pdf: StoredFile = { key: 'org-a/filetransfers/k2', size: 20, sha256: 'b'.repeat(64), mimeType: 'application/pdf', extension: 'pdf' };
const ref = { snapshotId: 'snap-1', organizationId: 'org-a' };

describe('Snapshot decider', () => {
  const spec = deciderSpec(snapshotDecider);
  const request = (actor: Actor, o: { own?: boolean; owner?: string } = {}): SnapshotCommand => ({
    kind: 'request',
    ...ref,
    actor,
    now: T0,
    applicationId: 'app-1',
    requesterUserEndpointId: 'ep-a',
    fromOwnEndpoint: o.own ?? true,
    targetUserId: 'cust-1',
    targetUserEndpointId: 'ep-c',
    ...('owner' in o ? (o.owner === undefined ? {} : { targetEndpointOwner: o.owner }) : { targetEndpointOwner: 'cust-1' }),
    interactionId: 'int-1',
    snapshotType: 'id-card',
  });
  const requested: Ev<'SnapshotRequestedEvent'> = {
    type: 'SnapshotRequestedEvent',
    schemaVersion: 1,
    data: { ...ref, applicationId: 'app-1', requesterUserId: 'agent-1', requesterUserEndpointId: 'ep-a', userId: 'cust-1', userEndpointId: 'ep-c', interactionId: 'int-1', snapshotType: 'id-card', requestedAt: T0 },
  };
  const acquire = (actor: Actor, file: StoredFile = png): SnapshotCommand => ({ kind: 'acquire', ...ref, actor, now: T1, userEndpointId: 'ep-c', file, path: 'interactions/int-1/k1' });
  const acquired: Ev<'SnapshotAcquiredEvent'> = { type: 'SnapshotAcquiredEvent', schemaVersion: 1, data: { ...ref, file: png, path: 'interactions/int-1/k1', requesterUserEndpointId: 'ep-a', acquiredAt: T1 } };
  const approve = (actor: Actor, snapshotType?: string): SnapshotCommand => ({ kind: 'approve', ...ref, actor, now: T1, userEndpointId: 'ep-a', ...(snapshotType ? { snapshotType } : {}) });
  const discard = (actor: Actor): SnapshotCommand => ({ kind: 'discard', ...ref, actor, now: T1, userEndpointId: 'ep-a' });
  const audience = { requesterUserEndpointId: 'ep-a', targetUserEndpointId: 'ep-c' };

  it('records a request from staff on its own endpoint to a registered endpoint of the target (REQUESTED)', () => {
    const s = spec.given([]).when(request(agent)).then([requested]);
    expect(toSnapshot(s)).toMatchObject({ id: 'snap-1', state: 'REQUESTED', approved: false, type: 'id-card', requestProcessingResult: { snapshotId: 'snap-1' }, version: 1 });
    expect(toSnapshot(s).path).toBeUndefined();
  });

  it('refuses a request from a customer, from an endpoint not the caller\'s (403), or to an endpoint that is not the target\'s (404)', () => {
    spec.given([]).when(request(customer)).thenFails({ message: /may not ask a user's camera/ });
    spec.given([]).when(request(agent, { own: false })).thenFails({ message: /from an endpoint the caller did not register/ });
    spec.given([]).when(request(agent, { owner: 'someone-else' })).thenFails({ message: /User cust-1 has no registered endpoint ep-c/ });
    spec.given([]).when(request(agent, { owner: undefined })).thenFails({ message: /has no registered endpoint/ });
  });

  it("takes the target's image once, and only an image: UPLOADED", () => {
    const s = spec.given([requested]).when(acquire(customer)).then([acquired]);
    expect(toSnapshot(s)).toMatchObject({ state: 'UPLOADED', mimeType: 'image/png', suffix: 'png', path: 'interactions/int-1/k1', timestamp: T1, version: 2 });
    spec.given([requested]).when(acquire(customer, pdf)).thenFails({ message: /must be an image; the file's content is application\/pdf/ });
    spec.given([requested, acquired]).when(acquire(customer)).thenFails({ message: /is UPLOADED: it cannot take another image/ });
  });

  it('lets only the target answer: the requester and other staff 403, another customer 404, another organization 404', () => {
    spec.given([requested]).when(acquire(agent)).thenFails({ message: /may not answer a snapshot or camera request \(one asked of another user\)/ });
    spec.given([requested]).when(acquire(otherAgent)).thenFails({ message: /one asked of another user/ });
    spec.given([requested]).when(acquire(otherCustomer)).thenFails({ message: /Snapshot snap-1 not found/ });
    spec.given([requested]).when(acquire(outsider)).thenFails({ message: /Snapshot snap-1 not found/ });
  });

  it('approves an UPLOADED snapshot (with another type when given); again is nothing; REQUESTED or DISCARDED is 409', () => {
    const approved: Ev<'SnapshotApprovedEvent'> = { type: 'SnapshotApprovedEvent', schemaVersion: 1, data: { ...ref, approvedBy: 'agent-1', userEndpointId: 'ep-a', snapshotType: 'passport', ...audience, approvedAt: T1 } };
    const s = spec.given([requested, acquired]).when(approve(agent, 'passport')).then([approved]);
    expect(toSnapshot(s)).toMatchObject({ state: 'APPROVED', approved: true, type: 'passport', approvalProcessingResult: { succeeded: true } });
    spec.given([requested, acquired, approved]).when(approve(agent)).then([]);
    spec.given([requested, acquired, approved]).when(approve(customer, 'passport')).then([]);
    spec.given([requested]).when(approve(agent)).thenFails({ message: /is REQUESTED: it cannot be approved before its image arrives/ });
    const discarded: Ev<'SnapshotDiscardedEvent'> = { type: 'SnapshotDiscardedEvent', schemaVersion: 1, data: { ...ref, discardedBy: 'agent-1', userEndpointId: 'ep-a', ...audience, discardedAt: T1 } };
    spec.given([requested, acquired, discarded]).when(approve(agent)).thenFails({ message: /is DISCARDED/ });
  });

  it('discards in any state but DISCARDED (again is nothing); only the requester and the target judge', () => {
    const discarded = (by: string): Ev<'SnapshotDiscardedEvent'> => ({ type: 'SnapshotDiscardedEvent', schemaVersion: 1, data: { ...ref, discardedBy: by, userEndpointId: 'ep-a', ...audience, discardedAt: T1 } });
    spec.given([requested]).when(discard(agent)).then([discarded('agent-1')]);
    spec.given([requested, acquired]).when(discard(customer)).then([discarded('cust-1')]);
    spec.given([requested, acquired, discarded('agent-1')]).when(discard(agent)).then([]);
    spec.given([requested, acquired]).when(discard(otherAgent)).thenFails({ message: /may not approve or discard a snapshot \(any other of its organization\)/ });
    spec.given([requested, acquired]).when(discard(otherCustomer)).thenFails({ message: /not found/ });
    spec.given([requested, acquired]).when(approve(admin)).thenFails({ message: /any other of its organization/ });
  });

  it('records a snapshot sent unasked from the sender to the receiver, who is its requester', () => {
    const upload: SnapshotCommand = {
      kind: 'upload',
      ...ref,
      actor: customer,
      now: T0,
      applicationId: 'app-1',
      userEndpointId: 'ep-c',
      fromOwnEndpoint: true,
      targetUserId: 'agent-1',
      targetUserEndpointId: 'ep-a',
      targetEndpointOwner: 'agent-1',
      relatedSnapshotId: 'snap-0',
      snapshotType: 'selfie',
      file: png,
      path: 'snapshots/k1',
    };
    const s = spec
      .given([])
      .when(upload)
      .then([
        {
          type: 'SnapshotUploadedEvent',
          schemaVersion: 1,
          data: { ...ref, relatedSnapshotId: 'snap-0', applicationId: 'app-1', requesterUserId: 'agent-1', requesterUserEndpointId: 'ep-a', userId: 'cust-1', userEndpointId: 'ep-c', snapshotType: 'selfie', file: png, path: 'snapshots/k1', uploadedAt: T0 },
        },
      ]);
    expect(toSnapshot(s)).toMatchObject({ state: 'UPLOADED', relatedSnapshotId: 'snap-0', requesterUserId: 'agent-1', userId: 'cust-1', type: 'selfie' });
    spec.given([]).when({ ...upload, fromOwnEndpoint: false }).thenFails({ message: /may not send a snapshot to a user \(from an endpoint the caller did not register\)/ });
    spec.given([]).when({ ...upload, file: pdf }).thenFails({ message: /must be an image/ });
  });

  it('shows a snapshot to its two sides and to staff; lists all of them to staff, and a customer its own', () => {
    const s = spec.given([requested]).state;
    expect([agent, customer, otherAgent, admin, otherCustomer, outsider].map((a) => snapshotReadable(s, a))).toEqual([true, true, true, true, false, false]);
    expect([agent, customer].map(snapshotsVisibleTo)).toEqual([undefined, 'cust-1']);
  });
});

describe('Camera request decider', () => {
  const spec = deciderSpec(cameraRequestDecider);
  const base = { snapshotCameraRequestId: 'cr-1', organizationId: 'org-a', now: T0 };
  const ask = (actor: Actor): CameraRequestCommand => ({ ...base, actor, kind: 'request', requesterUserEndpointId: 'ep-a', fromOwnEndpoint: true, targetUserId: 'cust-1', targetUserEndpointId: 'ep-c', targetEndpointOwner: 'cust-1', cameraRequestType: 'FLASH_ON' });
  const respond = (actor: Actor, succeeded = true): CameraRequestCommand => ({ ...base, actor, kind: 'respond', userEndpointId: 'ep-c', succeeded });
  const asked: Ev<'SnapshotCameraRequestedEvent'> = {
    type: 'SnapshotCameraRequestedEvent',
    schemaVersion: 1,
    data: { snapshotCameraRequestId: 'cr-1', organizationId: 'org-a', requesterUserId: 'agent-1', requesterUserEndpointId: 'ep-a', userId: 'cust-1', userEndpointId: 'ep-c', cameraRequestType: 'FLASH_ON', requestedAt: T0 },
  };

  it('asks the target, which answers once; the answer goes back to the requester', () => {
    spec.given([]).when(ask(agent)).then([asked]);
    spec
      .given([asked])
      .when(respond(customer, false))
      .then([{ type: 'SnapshotCameraRequestRespondedEvent', schemaVersion: 1, data: { snapshotCameraRequestId: 'cr-1', organizationId: 'org-a', userId: 'cust-1', userEndpointId: 'ep-c', requesterUserEndpointId: 'ep-a', succeeded: false, respondedAt: T0 } }]);
    spec.given([asked, { type: 'SnapshotCameraRequestRespondedEvent', schemaVersion: 1, data: { snapshotCameraRequestId: 'cr-1', organizationId: 'org-a', userId: 'cust-1', userEndpointId: 'ep-c', requesterUserEndpointId: 'ep-a', succeeded: true, respondedAt: T0 } }])
      .when(respond(customer))
      .thenFails({ message: /is RESPONDED: it was answered already/ });
  });

  it('refuses a customer asking, anyone but the target answering, and another organization', () => {
    spec.given([]).when(ask(customer)).thenFails({ message: /may not ask a user's camera/ });
    spec.given([asked]).when(respond(agent)).thenFails({ message: /one asked of another user/ });
    spec.given([asked]).when(respond(otherCustomer)).thenFails({ message: /Camera request cr-1 not found/ });
    spec.given([asked]).when(respond(outsider)).thenFails({ message: /not found/ });
  });
});

describe('File transfer decider', () => {
  const spec = deciderSpec(fileTransferDecider);
  const send = (actor: Actor) => ({ fileTransferId: 'ft-1', organizationId: 'org-a', actor, now: T0, applicationId: 'app-1', conferenceId: 'conf-1', targetId: 'cust-1', file: { ...pdf, filename: 'offer.pdf' } });

  it('records a file sent to a user, by anyone of the organization, once per id', () => {
    const created: Ev<'FileTransferCreatedEvent'> = {
      type: 'FileTransferCreatedEvent',
      schemaVersion: 1,
      data: { fileTransferId: 'ft-1', organizationId: 'org-a', applicationId: 'app-1', senderUserId: 'agent-1', conferenceId: 'conf-1', targetType: 'user', targetId: 'cust-1', file: { ...pdf, filename: 'offer.pdf' }, createdAt: T0 },
    };
    const s = spec.given([]).when(send(agent)).then([created]);
    expect([agent, customer, otherAgent, otherCustomer, outsider].map((a) => fileTransferReadable(s, a))).toEqual([true, true, true, false, false]);
    spec.given([created]).when(send(agent)).thenFails({ message: /already taken/ });
    expect([fileTransfersVisibleTo(agent, true), fileTransfersVisibleTo(agent, false), fileTransfersVisibleTo(customer, true)]).toEqual([undefined, 'agent-1', 'cust-1']);
  });
});

describe('Asset decider', () => {
  const spec = deciderSpec(assetDecider);
  const upload = (actor: Actor, roles = 'agent, Customer'): AssetCommand => ({ kind: 'upload', assetId: 'logo', organizationId: 'org-a', actor, now: T0, applicationId: 'app-1', category: 'logo', rolesAllowedAccess: roles, file: png });
  const remove = (actor: Actor): AssetCommand => ({ kind: 'delete', assetId: 'logo', organizationId: 'org-a', actor, now: T1 });
  const uploaded: Ev<'AssetUploadedEvent'> = {
    type: 'AssetUploadedEvent',
    schemaVersion: 1,
    data: { assetId: 'logo', organizationId: 'org-a', applicationId: 'app-1', category: 'logo', rolesAllowedAccess: ['AGENT', 'CUSTOMER'], file: png, uploadedBy: 'admin-1', uploadedAt: T0 },
  };

  it('is managed by SERVICE and ADMIN: uploaded (or replaced), deleted once, a delete of none is nothing', () => {
    spec.given([]).when(upload(admin)).then([uploaded]);
    spec.given([uploaded]).when(upload(admin)).then([uploaded]);
    spec.given([uploaded]).when(remove(admin)).then([{ type: 'AssetDeletedEvent', schemaVersion: 1, data: { assetId: 'logo', organizationId: 'org-a', deletedBy: 'admin-1', deletedAt: T1 } }]);
    spec.given([]).when(remove(admin)).then([]);
    spec.given([uploaded]).when(upload(agent)).thenFails({ message: /may not upload or delete the organization's assets/ });
    spec.given([uploaded]).when(remove(customer)).thenFails({ message: /may not upload or delete/ });
  });

  it("reads rolesAllowedAccess in any case, each role once, and refuses a word that is no role", () => {
    expect(parseRoles(' admin,CUSTOMER , Admin')).toEqual(['ADMIN', 'CUSTOMER']);
    expect(() => parseRoles('agent,wizard')).toThrow(/WIZARD is not one/);
    expect(() => parseRoles(' , ')).toThrow(/must name roles/);
  });

  it('shows an asset to the roles it names, and to SERVICE and ADMIN; a deleted one to nobody', () => {
    const s = spec.given([uploaded]).state;
    const service: Actor = { userId: 'svc', organizationId: 'org-a', roles: ['SERVICE'] };
    const onlyAdmins = spec.given([{ ...uploaded, data: { ...uploaded.data, rolesAllowedAccess: ['ADMIN'] } }]).state;
    expect([agent, customer, service, admin, outsider].map((a) => assetReadable(s, a))).toEqual([true, true, true, true, false]);
    expect([agent, customer, service, admin].map((a) => assetReadable(onlyAdmins, a))).toEqual([false, false, true, true]);
    const deleted = spec.given([uploaded, { type: 'AssetDeletedEvent', schemaVersion: 1, data: { assetId: 'logo', organizationId: 'org-a', deletedBy: 'admin-1', deletedAt: T1 } }]).state;
    expect(assetReadable(deleted, admin)).toBe(false);
  });
});

describe("An organization's storage quota", () => {
  it('takes a file while what is kept and the file fit; refuses with 429 naming the quota past it, and the question when nothing is left', () => {
    expect(() => checkStorageQuota('org-a', 700, 300, 1000)).not.toThrow();
    expect(() => checkStorageQuota('org-a', 999, 0, 1000)).not.toThrow();
    const refusal = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return { code: (e as { code: string }).code, details: (e as { details: unknown }).details };
      }
      return undefined;
    };
    expect(refusal(() => checkStorageQuota('org-a', 700, 301, 1000))).toEqual({ code: 'TOO_MANY_REQUESTS', details: { quota: 'organizationStoredBytes', limit: 1000, retryAfterSeconds: 30 } });
    expect(refusal(() => checkStorageQuota('org-a', 1000, 0, 1000))).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
  });
});

