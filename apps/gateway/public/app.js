// Parley's demo page: sign in with a development token, create or join a conference, publish
// camera and microphone, and see every other participant's streams come and go, driven by the
// conference's long-poll event feed. Plain browser JavaScript, no build step.

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

async function api(path, body) {
  const res = await fetch(`/rtc-api${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${state.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(data?.message ?? `${res.status} ${res.statusText}`);
  return data;
}

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
  try {
    const ice = await api('/iceServers/v2');
    state.iceServers = [ice.stun && { urls: ice.stun.split(',') }, ice.turn && { urls: ice.turn.split(','), username: ice.turnUsername, credential: ice.turnPassword }].filter(Boolean);
  } catch {
    state.iceServers = []; // no TURN configured: direct connections only
  }
  $('me').textContent = `${claims.sub} (${claims.organization_id}) from endpoint ${state.me}`;
  $('call').hidden = false;
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
  for (const id of ['publish-button', 'leave-button']) $(id).disabled = false;
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
  for (const id of ['publish-button', 'unpublish-button', 'leave-button']) $(id).disabled = true;
  for (const id of ['create-button', 'join-button']) $(id).disabled = false;
}

async function leave() {
  const { conferenceId } = state;
  await teardown();
  await api('/conferences/leave', { conferenceId, userEndpointId: state.me }).catch(fail);
  setStatus(`Left ${conferenceId}`);
}

const on = (id, fn) => $(id).addEventListener('click', () => fn().catch(fail));
offerSignIn().catch(fail);
on('signin-button', signIn);
on('create-button', create);
on('join-button', join);
on('publish-button', publish);
on('unpublish-button', unpublish);
on('leave-button', leave);
