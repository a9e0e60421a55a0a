// Parley's demo page: sign in with a development token, create or join a conference, publish
// camera and microphone, and see every other participant's streams come and go, driven by the
// conference's long-poll event feed. What an agent does in a call besides: ask the other
// participant's camera for a snapshot (that page answers by itself with a frame of the camera it
// publishes) and approve or discard it, and send a file (the other page shows a download link);
// those arrive on the endpoint's WebSocket push channel. Plain browser JavaScript, no build step.

const $ = (id) => document.getElementById(id);
const state = {
  token: '',
  devSignIn: false,
  me: `ep-${crypto.randomUUID().slice(0, 8)}`,
  conferenceId: '',
  version: 0,
  joined: false,
  iceServers: [],
  publication: null, // { streamId, pc, stream }
  views: new Map(), // streamId → { viewerId, pc, figure }
  userId: '',
  staff: false, // may ask for snapshots (AGENT, SERVICE, ADMIN)
  channel: null, // the endpoint's push WebSocket
  channelOpen: false,
  channelRetryMs: 1000,
  pushes: Promise.resolve(), // pushed events are handled one after another, in order
  snapshots: new Map(), // snapshotId → { figure, img, caption, approve, discard } (those this page asked for)
};
// For people debugging in the console, and for the end-to-end tests.
window.parley = state;

function setStatus(text) {
  $('status').textContent = text;
}

function log(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('log').prepend(li);
}

/** A call of the API as the signed-in user, JSON in and out; `init` adds to fetch's options (a method, a referrer policy). */
async function api(path, body, init = {}) {
  const res = await fetch(`/rtc-api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${state.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    ...init,
  });
  return answerOf(res);
}

async function answerOf(res) {
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(data?.message ?? `${res.status} ${res.statusText}`);
  return data;
}

/** A multipart upload: the fields in order, then the file (last: the gateway refuses a field that comes after it). */
async function upload(path, fields, fileField, blob, filename) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append(fileField, blob, filename);
  // No content type of our own: the browser writes multipart/form-data with its boundary.
  return answerOf(await fetch(`/rtc-api${path}`, { method: 'POST', headers: { authorization: `Bearer ${state.token}` }, body: form }));
}

/**
 * The fetch options of a signedUrl call: the gateway hands signed URLs only to pages of its own
 * origin, which it reads in the Referer, and this page's Referrer-Policy (no-referrer) would send none.
 */
const SIGNED_URL_CALL = { referrerPolicy: 'same-origin' };

/** The application the demo's snapshots and files are filed under (the API asks for one; the page has no other). */
const APPLICATION_ID = 'parley-demo';

function fail(e) {
  setStatus(`Error: ${e.message}`);
  log(`error: ${e.message}`);
}

function claimsOf(token) {
  try {
    return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return null;
  }
}

/** With the development secret the gateway signs a token for whoever the form names; otherwise the person pastes one. */
async function offerSignIn() {
  const config = await fetch('/demo.json').then((r) => r.json());
  state.devSignIn = config.devSignIn === true;
  $('dev-signin').hidden = !state.devSignIn;
  $('token-label').hidden = state.devSignIn;
}

/** How often the page tells the presence service it is still there (it sends a keepalive three times as often). */
const KEEPALIVE_SECONDS = 60;

/** The roles that may ask a user's camera for a snapshot. */
const STAFF_ROLES = ['AGENT', 'SERVICE', 'ADMIN'];

async function devToken() {
  const res = await fetch('/demo/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: $('dev-user').value.trim(), organizationId: $('dev-org').value.trim(), roles: [$('dev-role').value] }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.message ?? `sign-in failed (${res.status})`);
  return body.access_token;
}

async function signIn() {
  state.token = state.devSignIn ? await devToken() : $('token').value.trim();
  const claims = claimsOf(state.token);
  if (!claims) return fail(new Error('that is not a JWT'));
  await api('/conferences/active'); // proves the token is accepted
  // This page's endpoint, registered (a customer joins only with an endpoint it registered) and kept alive.
  await api('/users/endpoints/register', { userEndpointId: state.me, keepAliveSeconds: KEEPALIVE_SECONDS });
  clearInterval(state.keepAlive);
  state.keepAlive = setInterval(() => void api('/users/endpoints/keepalive', { userEndpointId: state.me }).catch(fail), (KEEPALIVE_SECONDS * 1000) / 3);
  // Snapshot requests, their answers and files arrive pushed to the endpoint: listen before the person can do anything.
  await openChannel().catch((e) => log(`no push channel: ${e.message}`));
  try {
    const ice = await api('/iceServers/v2');
    state.iceServers = [ice.stun && { urls: ice.stun.split(',') }, ice.turn && { urls: ice.turn.split(','), username: ice.turnUsername, credential: ice.turnPassword }].filter(Boolean);
  } catch {
    state.iceServers = []; // no TURN configured: direct connections only
  }
  state.userId = claims.sub;
  state.staff = (claims.roles ?? []).some((role) => STAFF_ROLES.includes(role));
  $('me').textContent = `${claims.sub} (${claims.organization_id}) from endpoint ${state.me}`;
  // Only staff may ask for a snapshot: a customer's page has no button that would be refused.
  $('snapshot-button').hidden = !state.staff;
  $('call').hidden = false;
  $('share').hidden = false;
  setStatus(`Signed in as ${claims.sub}`);
}

async function create() {
  const wanted = $('conference-id').value.trim();
  const summary = await api('/conferences/create', { ...(wanted ? { conferenceId: wanted } : {}), creatorEndpoint: state.me });
  $('conference-id').value = summary.id;
  log(`created ${summary.id}`);
  await join();
}

async function join() {
  const conferenceId = $('conference-id').value.trim();
  if (!conferenceId) return fail(new Error('enter a conference id, or create one'));
  await api('/conferences/join', { conferenceId, userEndpointId: state.me });
  Object.assign(state, { conferenceId, version: 0, joined: true });
  $('media').hidden = false;
  for (const id of ['publish-button', 'leave-button', 'snapshot-button', 'send-file-button']) $(id).disabled = false;
  for (const id of ['create-button', 'join-button']) $(id).disabled = true;
  setStatus(`In conference ${conferenceId}`);
  void followFeed();
}

/** The long-poll feed: each answer holds the events after the version we have seen. */
async function followFeed() {
  while (state.joined) {
    let events;
    try {
      events = await api(`/conferences/${state.conferenceId}/events?v=${state.version}`);
    } catch (e) {
      if (!state.joined) return;
      log(`feed: ${e.message}; retrying`);
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    for (const event of events) {
      state.version = event.conferenceVersion;
      log(`${event.type}${event.userEndpointId ? ` (${event.userEndpointId})` : ''}`);
      await apply(event).catch(fail);
    }
  }
}

async function apply(event) {
  switch (event.type) {
    case 'ConferenceStreamPublishedEvent':
      if (event.userEndpointId !== state.me) await view(event.streamId, event.userId);
      break;
    case 'ConferenceStreamUnpublishedEvent':
      removeView(event.streamId);
      break;
    case 'ConferenceEndedEvent':
      setStatus('The conference has ended');
      await teardown();
      break;
    default:
      break;
  }
}

async function publish() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  await pc.setLocalDescription(await pc.createOffer());
  const { streamId, sdpAnswer } = await api('/conferences/publishStream', {
    conferenceId: state.conferenceId,
    userEndpointId: state.me,
    conferenceStreamType: 'MIC_AND_CAM',
    sdpOffer: pc.localDescription.sdp,
  });
  await pc.setRemoteDescription({ type: 'answer', sdp: sdpAnswer });
  state.publication = { streamId, pc, stream };
  $('local-video').srcObject = stream;
  $('local').hidden = false;
  $('publish-button').disabled = true;
  $('unpublish-button').disabled = false;
  log(`publishing ${streamId}`);
}

async function unpublish() {
  const p = state.publication;
  if (!p) return;
  state.publication = null;
  await api('/conferences/unpublishStream', { conferenceId: state.conferenceId, userEndpointId: state.me, streamId: p.streamId }).catch(fail);
  p.pc.close();
  p.stream.getTracks().forEach((t) => t.stop());
  $('local').hidden = true;
  $('publish-button').disabled = !state.joined;
  $('unpublish-button').disabled = true;
}

async function view(streamId, userId) {
  if (state.views.has(streamId)) return;
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  const figure = document.createElement('figure');
  figure.dataset.streamId = streamId;
  const video = document.createElement('video');
  Object.assign(video, { autoplay: true, playsInline: true });
  const caption = document.createElement('figcaption');
  caption.textContent = userId ?? streamId;
  figure.append(video, caption);
  $('videos').append(figure);
  const remote = new MediaStream();
  pc.ontrack = (e) => {
    remote.addTrack(e.track);
    video.srcObject = remote;
  };
  const entry = { viewerId: null, pc, figure };
  state.views.set(streamId, entry);
  await pc.setLocalDescription(await pc.createOffer());
  const { viewerId, sdpAnswer } = await api('/conferences/viewStream', { conferenceId: state.conferenceId, userEndpointId: state.me, streamId, sdpOffer: pc.localDescription.sdp });
  entry.viewerId = viewerId;
  await pc.setRemoteDescription({ type: 'answer', sdp: sdpAnswer });
}

function removeView(streamId) {
  const v = state.views.get(streamId);
  if (!v) return;
  state.views.delete(streamId);
  v.pc.close();
  v.figure.remove();
}

async function teardown() {
  state.joined = false;
  if (state.publication) {
    state.publication.pc.close();
    state.publication.stream.getTracks().forEach((t) => t.stop());
    state.publication = null;
  }
  for (const id of [...state.views.keys()]) removeView(id);
  $('local').hidden = true;
  for (const id of ['publish-button', 'unpublish-button', 'leave-button', 'snapshot-button', 'send-file-button']) $(id).disabled = true;
  for (const id of ['create-button', 'join-button']) $(id).disabled = false;
}

async function leave() {
  const { conferenceId } = state;
  await teardown();
  await api('/conferences/leave', { conferenceId, userEndpointId: state.me }).catch(fail);
  setStatus(`Left ${conferenceId}`);
}

/** Close codes after which reconnecting cannot help: a newer socket took the endpoint, or the endpoint is unregistered. */
const FINAL_CLOSES = new Set([4001, 4004]);

/**
 * The endpoint's push channel (`/rtc-api/ws`; a browser cannot set headers on a WebSocket, so the
 * token goes in the query). Resolves on the session's first frame: from then on nothing pushed to
 * the endpoint misses this page. A dropped socket is opened again, less and less often.
 */
function openChannel() {
  const previous = state.channel;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const socket = new WebSocket(`${scheme}://${location.host}/rtc-api/ws?userEndpointId=${encodeURIComponent(state.me)}&access_token=${encodeURIComponent(state.token)}`);
  state.channel = socket;
  previous?.close(1000); // signed in again: the old socket's close is ignored below
  return new Promise((resolve, reject) => {
    socket.addEventListener('message', (message) => {
      let delivery;
      try {
        delivery = JSON.parse(message.data);
      } catch {
        return;
      }
      if (!delivery?.event) return; // the gateway's answer to a malformed message of ours
      // At-least-once deliveries are sent again until acknowledged.
      if (delivery.qos === 1) socket.send(JSON.stringify({ ack: delivery.id }));
      if (delivery.event.type === 'UserEndpointSessionOpenedEvent') {
        Object.assign(state, { channelOpen: true, channelRetryMs: 1000 });
        return resolve();
      }
      const about = delivery.event.snapshotId ?? delivery.event.fileTransferId;
      log(`pushed ${delivery.event.type}${about ? ` (${about})` : ''}`);
      state.pushes = state.pushes.then(() => onPush(delivery.event)).catch(fail);
    });
    socket.addEventListener('close', (e) => {
      reject(new Error(`the socket closed (${e.code})`)); // before it opened; else nothing
      if (state.channel !== socket) return;
      state.channelOpen = false;
      if (FINAL_CLOSES.has(e.code)) return log(`push channel closed: ${e.reason || e.code}`);
      const wait = state.channelRetryMs;
      state.channelRetryMs = Math.min(wait * 2, 30_000);
      setTimeout(() => {
        if (state.channel === socket) openChannel().catch(() => undefined);
      }, wait);
    });
  });
}

async function onPush(event) {
  switch (event.type) {
    case 'SnapshotRequestedEvent':
      if (event.userEndpointId === state.me) await answerSnapshot(event);
      break;
    case 'SnapshotAcquiredEvent':
      if (event.requesterUserEndpointId === state.me) await showSnapshot(event.snapshotId);
      break;
    case 'SnapshotApprovedEvent':
      markSnapshot(event.snapshotId, 'APPROVED');
      break;
    case 'SnapshotDiscardedEvent':
      markSnapshot(event.snapshotId, 'DISCARDED');
      break;
    case 'FileTransferEvent':
      await showFile(event);
      break;
    default:
      break;
  }
}

/** The other participant of the conference: another user's endpoint if there is one (the demo is for calls of two). */
async function otherParticipant() {
  const { participants } = await api(`/conferences/${encodeURIComponent(state.conferenceId)}`);
  const others = participants.filter((p) => p.id !== state.me);
  const other = others.find((p) => p.userId !== state.userId) ?? others[0];
  if (!other) throw new Error('nobody else is in the conference yet');
  return other; // { id (its endpoint), userId, … }
}

async function requestSnapshot() {
  const other = await otherParticipant();
  const { snapshotId } = await api('/snapshots/request', {
    applicationId: APPLICATION_ID,
    userEndpointId: state.me,
    targetUserId: other.userId,
    targetUserEndpointId: other.id,
    sessionType: 'CONFERENCE',
    sessionId: state.conferenceId,
  });
  // The image may have come already (the other page answers at once): the entry is shared.
  const entry = snapshotEntry(snapshotId);
  if (entry.figure.dataset.state === 'REQUESTED') entry.caption.textContent = `Waiting for ${other.userId}'s camera…`;
  log(`asked ${other.userId} for snapshot ${snapshotId}`);
}

/** The figure of a snapshot this page asked for: the image once it comes, and what the agent can do with it. */
function snapshotEntry(snapshotId) {
  let entry = state.snapshots.get(snapshotId);
  if (entry) return entry;
  const figure = document.createElement('figure');
  figure.className = 'snapshot';
  figure.dataset.snapshotId = snapshotId;
  const img = document.createElement('img');
  Object.assign(img, { alt: `Snapshot ${snapshotId}`, hidden: true });
  const caption = document.createElement('figcaption');
  const actions = document.createElement('div');
  actions.className = 'actions';
  const approve = actionButton('Approve', () => judge(snapshotId, 'approve'));
  const discard = actionButton('Discard', () => judge(snapshotId, 'discard'));
  actions.append(approve, discard);
  figure.append(img, caption, actions);
  $('snapshots').prepend(figure);
  entry = { figure, img, caption, approve, discard };
  state.snapshots.set(snapshotId, entry);
  setSnapshotState(entry, 'REQUESTED', 'Waiting for the image…');
  return entry;
}

function actionButton(text, fn) {
  const button = document.createElement('button');
  button.textContent = text;
  button.addEventListener('click', () => fn().catch(fail));
  return button;
}

/** The snapshot's state on its figure (as GET /snapshots/{id} names it) and what may be done from there. */
function setSnapshotState(entry, snapshotState, text) {
  entry.figure.dataset.state = snapshotState;
  entry.caption.textContent = text;
  const final = snapshotState === 'APPROVED' || snapshotState === 'DISCARDED';
  entry.approve.disabled = snapshotState !== 'UPLOADED';
  entry.discard.disabled = final; // a REQUESTED one may be cancelled
}

/** The image came: shown from a signed URL (the page's policy allows images of this origin only, no blob: or data: ones). */
async function showSnapshot(snapshotId) {
  const entry = snapshotEntry(snapshotId);
  if (entry.figure.dataset.state !== 'REQUESTED') return; // discarded while the image was on its way
  // Parley's own URL even when files are in S3: the page's policy allows images of this origin only.
  const { url } = await api('/snapshots/signedUrl', { snapshotId, createInternalSignedUrl: true }, SIGNED_URL_CALL);
  entry.img.src = url;
  entry.img.hidden = false;
  setSnapshotState(entry, 'UPLOADED', 'Approve it to keep it, or discard it');
}

async function judge(snapshotId, verdict) {
  await api(`/snapshots/${verdict}`, { snapshotId, userEndpointId: state.me });
  markSnapshot(snapshotId, verdict === 'approve' ? 'APPROVED' : 'DISCARDED');
}

/** Approved or discarded, here or (pushed) by the other side; the same news twice changes nothing. */
function markSnapshot(snapshotId, final) {
  const entry = state.snapshots.get(snapshotId);
  if (!entry) return; // not one this page asked for: the log says it
  if (final === 'DISCARDED') {
    // A discarded snapshot's image is deleted and its URLs stop working.
    entry.img.removeAttribute('src');
    entry.img.hidden = true;
  }
  setSnapshotState(entry, final, final === 'APPROVED' ? 'Approved' : 'Discarded');
}

/**
 * Asked for a snapshot, the page answers by itself, as a real client would: with a frame of the
 * camera it publishes. When it publishes none it declines (discards the request): the camera is
 * not turned on behind the person's back.
 */
async function answerSnapshot(event) {
  const { snapshotId, requesterUserId } = event;
  if (!state.publication) {
    await api('/snapshots/discard', { snapshotId, userEndpointId: state.me });
    return log(`declined snapshot ${snapshotId} of ${requesterUserId}: the camera is off`);
  }
  const frame = await frameOf($('local-video'));
  await upload('/snapshots/acquire', { snapshotId, userEndpointId: state.me }, 'image', frame, 'snapshot.jpg');
  log(`sent a frame for snapshot ${snapshotId} to ${requesterUserId}`);
}

/** How long a snapshot request waits for the camera's first frame. */
const FIRST_FRAME_MS = 10_000;

/** The video's current frame as a JPEG (drawn into a canvas), once the video has one. */
async function frameOf(video) {
  if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the camera gave no frame')), FIRST_FRAME_MS);
      video.addEventListener(
        'loadeddata',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
  const canvas = document.createElement('canvas');
  Object.assign(canvas, { width: video.videoWidth, height: video.videoHeight });
  canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
  if (!blob) throw new Error('the frame could not be encoded');
  return blob;
}

async function sendFile() {
  const file = $('file-input').files[0];
  if (!file) throw new Error('choose a file to send');
  const other = await otherParticipant();
  const { fileTransferId } = await upload(
    '/filetransfers?targetType=user',
    { applicationId: APPLICATION_ID, targetId: other.userId, conferenceId: state.conferenceId, userEndpointId: state.me },
    'file',
    file,
    file.name,
  );
  $('file-input').value = '';
  log(`sent ${file.name} to ${other.userId} (${fileTransferId})`);
}

/** A file sent to this user: a download link, from a signed URL (which a plain link can follow, having no token). */
async function showFile(event) {
  const name = event.filename ?? 'file';
  const link = document.createElement('a');
  link.textContent = name;
  link.download = name;
  let validUntil = await refreshLink(link, event.fileTransferId);
  // A signed URL works for SIGNED_URL_TTL_SECONDS (an hour unless configured): an old link is signed again when clicked.
  link.addEventListener('click', (e) => {
    if (Date.now() < validUntil - 5000) return;
    e.preventDefault();
    refreshLink(link, event.fileTransferId)
      .then((until) => {
        validUntil = until;
        link.click();
      })
      .catch(fail);
  });
  const li = document.createElement('li');
  li.dataset.fileTransferId = event.fileTransferId;
  li.append(link, ` from ${event.userId}, ${sizeOf(event.size)}`);
  $('files').prepend(li);
}

/** Points the link at a fresh signed URL of the file; answers when that URL stops working (ms). */
async function refreshLink(link, fileTransferId) {
  const { url, validUntil } = await api(`/filetransfers/${encodeURIComponent(fileTransferId)}/signedUrl`, undefined, {
    method: 'POST',
    ...SIGNED_URL_CALL,
    headers: { authorization: `Bearer ${state.token}`, 'x-auvious-createinternalsignedurl': 'true' },
  });
  link.href = url;
  return Date.parse(validUntil);
}

function sizeOf(bytes) {
  if (typeof bytes !== 'number') return 'size unknown';
  return bytes < 1024 ? `${bytes} bytes` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const on = (id, fn) => $(id).addEventListener('click', () => fn().catch(fail));
offerSignIn().catch(fail);
on('signin-button', signIn);
on('create-button', create);
on('join-button', join);
on('publish-button', publish);
on('unpublish-button', unpublish);
on('leave-button', leave);
on('snapshot-button', requestSnapshot);
on('send-file-button', sendFile);
