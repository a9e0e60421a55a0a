import { type Actor, type Role, Roles, isRole } from './actor';
import { ParleyError } from './errors';

/**
 * Who may do what: the one written answer, per operation and situation, for every role.
 *
 * - `yes`: allowed;
 * - `forbidden`: 403 with a message that names the operation and the situation;
 * - `hidden`: the caller may not know it is there: a single thing answers 404, a list leaves it out.
 *
 * The services decide with `authorize` (in their deciders), docs/access.md is this table
 * rendered (`renderAccessTable`, checked by a test), and test/access-matrix.e2e.spec.ts plays
 * every cell through the gateway. Another organization's things are always 404 and are not in
 * the table: an organization is a wall, whatever the role.
 */
export type Access = 'yes' | 'forbidden' | 'hidden';
export type AccessRow = Readonly<Record<Role, Access>>;

export interface AccessRule {
  /** The HTTP routes it covers (an operation only services ask for over NATS has none). */
  routes: readonly string[];
  /** What the caller does, completing "may not …". */
  what: string;
  /** Situation → what each role gets in it. */
  cases: Readonly<Record<string, AccessRow>>;
}

const row = (AGENT: Access, CUSTOMER: Access, SERVICE: Access, ADMIN: Access): AccessRow => ({ AGENT, CUSTOMER, SERVICE, ADMIN });
const everyone = row('yes', 'yes', 'yes', 'yes');
const nobody = row('forbidden', 'forbidden', 'forbidden', 'forbidden');
/** Staff: the contact centre's agents, its integrations and its administrators; not its customers. */
const staff = row('yes', 'forbidden', 'yes', 'yes');
const staffSeesIt = row('yes', 'hidden', 'yes', 'yes');
/** Those who act for others: integrations and administrators. */
const privileged = row('forbidden', 'forbidden', 'yes', 'yes');
const serviceOnly = row('forbidden', 'forbidden', 'yes', 'forbidden');

/** A participant's own endpoint, or another's: what every command on one participant distinguishes. */
const participantCases = {
  "the caller's own participant endpoint": everyone,
  "another user's participant endpoint": privileged,
} as const;

const conferenceRoute = (name: string): string => `POST /rtc-api/conferences/${name}`;

export const ACCESS = {
  createConference: {
    routes: [conferenceRoute('create')],
    what: 'create a conference',
    cases: {
      'with an id the server chooses': everyone,
      'with an id the caller chooses': staff,
      "for an organization the caller's OAuth client may act for": serviceOnly,
      'for any other organization': nobody,
    },
  },
  joinConference: {
    routes: [conferenceRoute('join')],
    what: 'join a conference',
    cases: {
      'with an endpoint the caller registered': everyone,
      'with an endpoint nobody registered': staff,
      'with an endpoint another user registered': nobody,
    },
  },
  leaveConference: { routes: [conferenceRoute('leave')], what: 'take a participant out of a conference', cases: participantCases },
  endConference: {
    routes: [conferenceRoute('end')],
    what: 'end a conference',
    cases: {
      'one the caller created': everyone,
      'one the caller joined but did not create': staff,
      // A customer does not see a conference it is not in (as readConference).
      'one the caller neither created nor joined': staffSeesIt,
    },
  },
  setConferenceInteraction: {
    routes: [conferenceRoute('interaction')],
    what: "set a conference's interaction",
    cases: {
      'one the caller created or joined': staff,
      'one the caller neither created nor joined': staff,
    },
  },
  updateConferenceMetadata: {
    routes: [conferenceRoute('updateMetadata')],
    what: "change a conference's metadata",
    cases: {
      "with the caller's own participant endpoint": staff,
      "with another user's participant endpoint": privileged,
    },
  },
  updateParticipantMetadata: { routes: [conferenceRoute('updateParticipantMetadata')], what: "change a participant's metadata", cases: participantCases },
  updateStreamMetadata: { routes: [conferenceRoute('updateStreamMetadata')], what: "change a published stream's metadata", cases: participantCases },
  updatePublishedStreamBitrate: { routes: [conferenceRoute('updatePublishedStreamBitrate')], what: "limit a published stream's bitrate", cases: participantCases },
  publishStream: { routes: [conferenceRoute('publishStream')], what: 'publish a stream for a participant', cases: participantCases },
  unpublishStream: { routes: [conferenceRoute('unpublishStream')], what: "unpublish a participant's stream", cases: participantCases },
  viewStream: { routes: [conferenceRoute('viewStream')], what: 'view a stream as a participant', cases: participantCases },
  stopViewStream: { routes: [conferenceRoute('stopViewStream')], what: "stop a participant's view", cases: participantCases },
  addIceCandidates: {
    routes: [conferenceRoute('addPublishStreamIceCandidates'), conferenceRoute('addViewStreamIceCandidates')],
    what: "add ICE candidates to a participant's publication or view",
    cases: participantCases,
  },
  sendEventToConference: {
    routes: [conferenceRoute('sendEvent')],
    what: "send an event to a conference's endpoints",
    cases: { 'any conference of its organization': serviceOnly },
  },
  listActiveConferences: {
    routes: ['GET /rtc-api/conferences/active'],
    what: 'see a conference in the active list',
    cases: {
      'one the caller created or joined': everyone,
      'one the caller neither created nor joined': staffSeesIt,
    },
  },
  readConference: {
    routes: ['GET /rtc-api/conferences/{id}', 'GET /rtc-api/conferences/{id}/simpleView', 'GET /rtc-api/conferences/{id}/events'],
    what: 'read a conference or its events',
    cases: {
      'one the caller created or joined': everyone,
      'one the caller neither created nor joined': staffSeesIt,
    },
  },
  updateParticipantState: {
    routes: [],
    what: "set a participant's health (the presence service's verdict on its keepalives)",
    cases: { 'any participant': serviceOnly },
  },
  registerEndpoint: {
    routes: ['POST /rtc-api/users/endpoints', 'POST /rtc-api/users/endpoints/register'],
    what: 'register a user endpoint',
    cases: { 'an endpoint id of its own': everyone },
  },
  useEndpoint: {
    routes: ['POST /rtc-api/users/endpoints/keepalive', 'POST /rtc-api/users/endpoints/unregister', 'GET /rtc-api/users/endpoints/{id}/events'],
    what: 'keep alive, unregister or poll a user endpoint',
    cases: {
      'an endpoint the caller registered': everyone,
      'an endpoint another user registered': row('hidden', 'hidden', 'hidden', 'hidden'),
    },
  },
  sendEventToUser: {
    routes: ['POST /rtc-api/users/endpoints/sendEvent'],
    what: 'send an event to a user',
    cases: {
      'a user of its own organization': everyone,
      "a user of an organization the caller's OAuth client may act for": serviceOnly,
      // Another organization's users are its data: not found, as everywhere.
      'a user of any other organization': row('hidden', 'hidden', 'hidden', 'hidden'),
    },
  },
  createInteraction: {
    routes: ['POST /rtc-api/interactions'],
    what: 'create an interaction',
    cases: {
      'with an id the server chooses': everyone,
      // An integration's id (a Genesys conversation): a customer could otherwise take the id of a contact to come.
      'with an id the caller chooses': staff,
    },
  },
  readInteraction: {
    routes: ['GET /rtc-api/interactions/{interactionId}', 'GET /rtc-api/interactions/{interactionId}/conferences'],
    what: 'read an interaction',
    cases: {
      'one the caller created': everyone,
      // Taking part: the caller created or joined a conference that named the interaction.
      'one the caller took part in through a conference': everyone,
      'any other of its organization': staffSeesIt,
    },
  },
  updateInteraction: {
    routes: ['PUT /rtc-api/interactions/{interactionId}'],
    what: 'update an interaction',
    cases: {
      'one the caller created': everyone,
      // A customer that took part reads it, and may not change what staff record.
      'one the caller took part in through a conference': row('yes', 'forbidden', 'yes', 'yes'),
      'any other of its organization': staffSeesIt,
    },
  },
  listInteractions: {
    routes: ['GET /rtc-api/interactions'],
    what: "list the organization's interactions",
    cases: { "its own organization's": staff },
  },
  rateSession: {
    routes: ['POST /rtc-api/ratings'],
    what: 'rate a call or conference',
    cases: { 'a call or conference of its own organization': everyone },
  },
  readRatings: {
    routes: ['GET /rtc-api/ratings/interactions/{interactionId}', 'GET /rtc-api/ratings/conferences/{conferenceId}'],
    what: 'see a rating in a list',
    cases: {
      'one the caller gave': everyone,
      'one another user gave': staffSeesIt,
    },
  },
  talkdeskContacts: {
    routes: ['POST /rtc-api/talkdesk-integration/create', 'POST /rtc-api/talkdesk-integration/activity'],
    what: "create or read a Talkdesk contact's interactions",
    cases: { "its own organization's contacts": staff },
  },
  talkdeskValidate: {
    routes: ['POST /rtc-api/talkdesk-integration/authorization-validator'],
    what: "check a Talkdesk integration's credentials",
    cases: { 'credentials of its own organization': privileged },
  },
  createChatSession: {
    routes: ['POST /rtc-api/chat-sessions'],
    what: 'create a chat session',
    cases: {
      'one the caller takes part in': everyone,
      // A customer makes sessions it is in: one it could not see afterwards is for staff to set up.
      'one the caller does not take part in': staff,
      // A room's conference receives the session's events: a customer links only a conference it is in.
      'one the caller takes part in, in a room that is not a conference the caller took part in': staff,
    },
  },
  readChatSession: {
    routes: ['GET /rtc-api/chat-sessions/{id}', 'GET /rtc-api/chat-sessions'],
    what: 'see a chat session',
    cases: {
      'one the caller takes part in': everyone,
      // Its room names a conference the caller created or joined: the conference's participants receive its events too.
      "one in whose room's conference the caller took part": everyone,
      'any other of its organization': staffSeesIt,
    },
  },
  updateChatSession: {
    routes: ['PATCH /rtc-api/chat-sessions/{id}'],
    what: 'change a chat session or give it a directive',
    cases: {
      'one the caller takes part in': everyone,
      // A customer of the room's conference follows the session; only its participants act on it.
      "one in whose room's conference the caller took part": row('yes', 'forbidden', 'yes', 'yes'),
      'any other of its organization': staffSeesIt,
      // As at its creation: a customer moves it only to a conference it is in, and stays among its participants.
      'one the caller takes part in, moved to a room that is not a conference the caller took part in': staff,
      'one the caller takes part in, with the caller left out of its participants': staff,
    },
  },
  askForCamera: {
    routes: ['POST /rtc-api/snapshots/request', 'POST /rtc-api/snapshots/cameraRequest'],
    what: "ask a user's camera for a snapshot, or to switch it or its flash",
    cases: {
      // The requester's endpoint receives what the target answers: it must be the caller's own.
      'from an endpoint the caller registered': staff,
      'from an endpoint the caller did not register': nobody,
    },
  },
  uploadSnapshot: {
    routes: ['POST /rtc-api/snapshots/upload'],
    what: 'send a snapshot to a user',
    cases: {
      'from an endpoint the caller registered': everyone,
      'from an endpoint the caller did not register': nobody,
    },
  },
  answerCameraRequest: {
    routes: ['POST /rtc-api/snapshots/acquire', 'POST /rtc-api/snapshots/cameraRequestRespond'],
    what: 'answer a snapshot or camera request',
    cases: {
      'one asked of the caller': everyone,
      // Only the target answers; a customer does not learn of another user's request.
      'one asked of another user': row('forbidden', 'hidden', 'forbidden', 'forbidden'),
    },
  },
  judgeSnapshot: {
    routes: ['POST /rtc-api/snapshots/approve', 'POST /rtc-api/snapshots/discard'],
    what: 'approve or discard a snapshot',
    cases: {
      'one the caller asked for or was asked for': everyone,
      'any other of its organization': row('forbidden', 'hidden', 'forbidden', 'forbidden'),
    },
  },
  readSnapshot: {
    routes: ['GET /rtc-api/snapshots/{snapshotId}', 'GET /rtc-api/snapshots', 'POST /rtc-api/snapshots/signedUrl'],
    what: 'see a snapshot or download it',
    cases: {
      'one the caller asked for or was asked for': everyone,
      'any other of its organization': staffSeesIt,
    },
  },
  transferFile: {
    routes: ['POST /rtc-api/filetransfers'],
    what: 'send a file to a user',
    cases: { 'a user of its own organization': everyone },
  },
  readFileTransfer: {
    routes: ['GET /rtc-api/filetransfers', 'POST /rtc-api/filetransfers/{fileTransferId}/signedUrl'],
    what: 'see a file transfer or download its file',
    cases: {
      'one the caller sent or received': everyone,
      // A list shows them with all=true.
      'any other of its organization': staffSeesIt,
    },
  },
  manageAssets: {
    routes: ['POST /rtc-api/assets/{assetId}', 'DELETE /rtc-api/assets/{assetId}'],
    what: "upload or delete the organization's assets",
    cases: { 'an asset of its own organization': privileged },
  },
  readAsset: {
    routes: ['GET /rtc-api/assets', 'POST /rtc-api/assets/{assetId}/signedUrl'],
    what: 'see an asset or download it',
    cases: {
      "one whose rolesAllowedAccess names one of the caller's roles": everyone,
      // Those who manage assets see them all.
      "one whose rolesAllowedAccess names none of the caller's roles": row('hidden', 'hidden', 'yes', 'yes'),
    },
  },
  iceServers: {
    routes: ['GET /rtc-api/iceServers/v2'],
    what: 'get STUN/TURN servers and credentials',
    cases: { 'its own credentials': everyone },
  },
} as const satisfies Record<string, AccessRule>;

export type AccessOperation = keyof typeof ACCESS;
export type SituationOf<O extends AccessOperation> = keyof (typeof ACCESS)[O]['cases'] & string;

/** What a caller with these roles gets: any role's `yes` allows; else any `forbidden` forbids; else hidden. No role of Parley's: forbidden. */
export function accessOf<O extends AccessOperation>(operation: O, situation: SituationOf<O>, roles: readonly string[]): Access {
  const cells = (ACCESS[operation].cases as Record<string, AccessRow>)[situation];
  const mine = roles.filter(isRole).map((r) => cells[r]);
  if (mine.includes('yes')) return 'yes';
  if (mine.includes('hidden') && !mine.includes('forbidden')) return 'hidden';
  return 'forbidden';
}

/** The roles that are allowed the operation in at least one situation: those the route lets through. */
export const rolesAllowed = (operation: AccessOperation): Role[] =>
  Roles.filter((r) => Object.values(ACCESS[operation].cases as Record<string, AccessRow>).some((cells) => cells[r] === 'yes'));

/**
 * Throws unless the table allows it: FORBIDDEN naming the operation and situation, or what
 * `hidden` throws (the caller's "not found").
 */
export function authorize<O extends AccessOperation>(operation: O, situation: NoInfer<SituationOf<O>>, actor: Actor, hidden: () => ParleyError): void {
  const access = accessOf(operation, situation, actor.roles);
  if (access === 'yes') return;
  if (access === 'hidden') throw hidden();
  const roles = actor.roles.filter(isRole);
  throw new ParleyError('FORBIDDEN', `A caller with ${roles.length ? `the role(s) ${roles.join(', ')}` : 'none of Parley\'s roles'} may not ${ACCESS[operation].what} (${situation})`, {
    operation,
    situation,
  });
}

/** useEndpoint for an endpoint `ownerUserId` registered: the presence service's commands and the gateway's polls and sockets ask the same. */
export const authorizeEndpointUse = (ownerUserId: string, actor: Actor, notFound: () => ParleyError): void =>
  authorize('useEndpoint', ownerUserId === actor.userId ? 'an endpoint the caller registered' : 'an endpoint another user registered', actor, notFound);

/** True when the table lets the caller see it (a list's filter). */
export const mayAccess = <O extends AccessOperation>(operation: O, situation: NoInfer<SituationOf<O>>, actor: Actor): boolean => accessOf(operation, situation, actor.roles) === 'yes';

/** The table as Markdown (docs/access.md holds it between markers; a test keeps the two equal). */
export function renderAccessTable(): string {
  const mark: Record<Access, string> = { yes: 'yes', forbidden: '403', hidden: '404' };
  const lines = [`| Operation | Routes | Situation | ${Roles.join(' | ')} |`, `|---|---|---|${Roles.map(() => '---').join('|')}|`];
  for (const [name, rule] of Object.entries(ACCESS) as [AccessOperation, AccessRule][]) {
    const routes = rule.routes.length ? rule.routes.map((r) => `\`${r}\``).join('<br>') : '(NATS only)';
    let first = true;
    for (const [situation, cells] of Object.entries(rule.cases)) {
      lines.push(`| ${first ? `**${name}**: ${rule.what}` : ''} | ${first ? routes : ''} | ${situation} | ${Roles.map((r) => mark[cells[r]]).join(' | ')} |`);
      first = false;
    }
  }
  return lines.join('\n');
}
