import { type SyntheticMedia, type WrtcPeerConnection, inboundTotals, outboundTotals, peerConnection, receiveOffer, sendOffer, sleep, syntheticMedia, waitFor } from '@parley/testing';
import { type Api, Stack } from './support/stack';

/**
 * The SFU behind the conference API: real WebRTC peers (@roamhq/wrtc) publish and view over
 * HTTP through the gateway and the conference service; what the mediasoup worker holds is read
 * from the worker's own dumps (Sfu.usage).
 */
describe('media through the conference API', () => {
  let stack: Stack;
  let agent: Api;
  let customer: Api;
  const peers: WrtcPeerConnection[] = [];
  const sources: SyntheticMedia[] = [];

  beforeAll(async () => {
    stack = await Stack.start({ media: {}, presence: {} });
    agent = await stack.api('agent-1', 'org-a', ['AGENT']);
    customer = await stack.api('customer-1', 'org-a', ['CUSTOMER']);
    // A customer joins with an endpoint it registered.
    expect((await customer.post('/users/endpoints/register', { userEndpointId: 'ep-c', keepAliveSeconds: 3600 })).status).toBe(200);
  });
  afterAll(async () => {
    sources.forEach((s) => s.stop());
    peers.forEach((p) => p.close());
    await stack?.stop();
  });

  /** A conference the agent (ep-a) and the customer (ep-c) have joined. */
  async function call(): Promise<string> {
    const { body } = await agent.post('/conferences/create', {});
    expect((await agent.post('/conferences/join', { conferenceId: body.id, userEndpointId: 'ep-a' })).status).toBe(200);
    expect((await customer.post('/conferences/join', { conferenceId: body.id, userEndpointId: 'ep-c' })).status).toBe(200);
    return body.id;
  }

  function peer(): WrtcPeerConnection {
    const pc = peerConnection();
    peers.push(pc);
    return pc;
  }

  /** The customer publishes a synthetic camera; answers the stream id and the sending connection. */
  async function publishCamera(conferenceId: string, options: { noise?: boolean; width?: number; height?: number } = {}) {
    const media = syntheticMedia(options);
    sources.push(media);
    const pc = peer();
    const res = await customer.post('/conferences/publishStream', { conferenceId, userEndpointId: 'ep-c', conferenceStreamType: 'CAM', sdpOffer: await sendOffer(pc, [media.videoTrack]) });
    expect(res.status).toBe(200);
    await pc.setRemoteDescription({ type: 'answer', sdp: res.body.sdpAnswer });
    return { streamId: res.body.streamId as string, pc };
  }

  /** The agent views the stream's video; answers the viewer id and the receiving connection. */
  async function viewVideo(conferenceId: string, streamId: string) {
    const pc = peer();
    const res = await agent.post('/conferences/viewStream', { conferenceId, userEndpointId: 'ep-a', streamId, sdpOffer: await receiveOffer(pc, ['video']) });
    expect(res.status).toBe(200);
    await pc.setRemoteDescription({ type: 'answer', sdp: res.body.sdpAnswer });
    await waitFor(async () => (await inboundTotals(pc)).framesDecoded > 0, { timeoutMs: 15_000, description: 'decoded frames at the viewer' });
    return { viewerId: res.body.viewerId as string, pc };
  }

  const usage = (conferenceId: string) => stack.sfu.usage(`org-a/${conferenceId}`);
  const streamsOf = async (conferenceId: string) => (await agent.get(`/conferences/${conferenceId}`)).body.participants.flatMap((p: any) => p.streams);

  describe('bad offers are 400 with the reason and change nothing', () => {
    it('an answer sent as the offer, an offer with no codec the SFU supports, and an offer that does not match the stream type', async () => {
      const id = await call();
      const media = syntheticMedia();
      sources.push(media);
      const offer = await sendOffer(peer(), [media.videoTrack]);
      const publish = (sdpOffer: string, conferenceStreamType = 'CAM') => customer.post('/conferences/publishStream', { conferenceId: id, userEndpointId: 'ep-c', conferenceStreamType, sdpOffer });

      const asAnswer = await publish(offer.replace(/a=setup:actpass/g, 'a=setup:active'));
      expect(asAnswer.status).toBe(400);
      expect(asAnswer.body.message).toMatch(/is an answer, not an offer/);

      // Every video codec renamed to one nobody knows.
      const unknownCodecs = offer.replace(/^a=rtpmap:(\d+) (VP8|VP9|H264|AV1X?|H265)\/90000/gm, 'a=rtpmap:$1 X-PARLEY-NONE/90000');
      expect(unknownCodecs).not.toMatch(/VP8\/90000/);
      const noCodec = await publish(unknownCodecs);
      expect(noCodec.status).toBe(400);
      expect(noCodec.body.message).toMatch(/video m-section has no codec the SFU supports/);

      const mismatch = await publish(offer, 'MIC');
      expect(mismatch.status).toBe(400);
      expect(mismatch.body.message).toMatch(/MIC needs sending m-sections \[audio\], the offer sends \[video\]/);

      const notSdp = await publish('hello');
      expect(notSdp.status).toBe(400);
      expect(notSdp.body.message).toMatch(/not an SDP session description/);

      expect(await streamsOf(id)).toEqual([]);
      expect((await agent.get(`/conferences/${id}`)).body.version).toBe(3);
      // The transports made for the refused offers are closed again.
      expect(await usage(id)).toMatchObject({ transports: 0, producers: 0, consumers: 0 });
    });

    it("a viewer offer with no receiving m-section of the stream's kind", async () => {
      const id = await call();
      const { streamId } = await publishCamera(id);
      const res = await agent.post('/conferences/viewStream', { conferenceId: id, userEndpointId: 'ep-a', streamId, sdpOffer: await receiveOffer(peer(), ['audio']) });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/the stream has video, but the viewer's offer has no receiving video m-section/);
      // Created, two joins, the publication; no view recorded.
      expect((await agent.get(`/conferences/${id}`)).body.version).toBe(4);
      expect(await usage(id)).toMatchObject({ transports: 1, producers: 1, consumers: 0 });
    });
  });

  it('unknown streams and viewers are 404; ICE candidates are validated', async () => {
    const id = await call();
    const { streamId } = await publishCamera(id);
    const offer = await receiveOffer(peer(), ['video']);
    const view = await agent.post('/conferences/viewStream', { conferenceId: id, userEndpointId: 'ep-a', streamId: 'no-such-stream', sdpOffer: offer });
    expect(view.status).toBe(404);
    const stop = await agent.post('/conferences/stopViewStream', { conferenceId: id, userEndpointId: 'ep-a', streamId, viewerId: 'no-such-viewer' });
    expect(stop.status).toBe(404);
    const viewIce = await agent.post('/conferences/addViewStreamIceCandidates', { conferenceId: id, userEndpointId: 'ep-a', streamId, viewerId: 'no-such-viewer', iceCandidates: [] });
    expect(viewIce.status).toBe(404);

    const candidate = { candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.7 49152 typ srflx raddr 10.0.0.2 rport 49152', sdpMid: '0', sdpMLineIndex: 0 };
    const ok = await customer.post('/conferences/addPublishStreamIceCandidates', { conferenceId: id, userEndpointId: 'ep-c', streamId, iceCandidates: [candidate, { candidate: '', sdpMid: '0', sdpMLineIndex: 0 }] });
    expect(ok.status).toBe(204);
    const garbage = await customer.post('/conferences/addPublishStreamIceCandidates', { conferenceId: id, userEndpointId: 'ep-c', streamId, iceCandidates: [{ candidate: 'candidate:1 1 carrier-pigeon', sdpMid: '0', sdpMLineIndex: 0 }] });
    expect(garbage.status).toBe(400);
    expect(garbage.body.message).toMatch(/not an ICE candidate/);
  });

  it("updatePublishedStreamBitrate caps what the publisher sends (the SFU's transport limit)", async () => {
    const id = await call();
    const { pc } = await publishCamera(id, { noise: true, width: 640, height: 360 });
    /** The publisher's video bits per second over one second. */
    const sendRate = async () => {
      const a = (await outboundTotals(pc)).videoBytes;
      await sleep(1000);
      return ((await outboundTotals(pc)).videoBytes - a) * 8;
    };
    const limit = 150_000;
    await waitFor(async () => (await sendRate()) > 3 * limit, { timeoutMs: 20_000, description: `the publisher sending more than ${3 * limit} bit/s` });
    const res = await customer.post('/conferences/updatePublishedStreamBitrate', { conferenceId: id, userEndpointId: 'ep-c', videoBitrate: limit });
    expect(res.status).toBe(204);
    // The SFU's bandwidth feedback now tells the sender to stay under the limit.
    await waitFor(async () => (await sendRate()) < 1.5 * limit, { timeoutMs: 20_000, description: `the publisher sending under ${1.5 * limit} bit/s` });
    const event = (await agent.get(`/conferences/${id}/events?v=0`)).body.find((e: any) => e.type === 'ConferenceStreamBitrateUpdatedEvent');
    expect(event).toMatchObject({ videoBitrate: limit });
  });

  it("stopViewStream closes the viewer's transport and consumers; unpublishStream closes the producers and every consumer of them", async () => {
    const id = await call();
    const { streamId } = await publishCamera(id);
    const first = await viewVideo(id, streamId);
    await viewVideo(id, streamId);
    expect(await usage(id)).toEqual({ router: true, transports: 3, producers: 1, consumers: 2 });

    // The SFU follows the conference's events (ConferenceStreamViewStoppedEvent, ...Unpublished...).
    expect((await agent.post('/conferences/stopViewStream', { conferenceId: id, userEndpointId: 'ep-a', streamId, viewerId: first.viewerId })).status).toBe(204);
    await waitFor(async () => (await usage(id)).transports === 2, { description: "the stopped viewer's transport closed" });
    expect(await usage(id)).toEqual({ router: true, transports: 2, producers: 1, consumers: 1 });

    expect((await customer.post('/conferences/unpublishStream', { conferenceId: id, userEndpointId: 'ep-c', streamId })).status).toBe(204);
    await waitFor(async () => (await usage(id)).transports === 0, { description: 'the publication and its views closed' });
    expect(await usage(id)).toEqual({ router: true, transports: 0, producers: 0, consumers: 0 });
  });

  it('leave closes everything the participant publishes and views, also when only the event reaches the SFU', async () => {
    const id = await call();
    const { streamId } = await publishCamera(id);
    const { pc: viewer } = await viewVideo(id, streamId);
    expect(await usage(id)).toMatchObject({ transports: 2, producers: 1, consumers: 1 });

    // The viewer leaves: the conference service records it and the SFU follows the event.
    expect((await agent.post('/conferences/leave', { conferenceId: id, userEndpointId: 'ep-a' })).status).toBe(204);
    await waitFor(async () => (await usage(id)).transports === 1, { description: "the viewer's transport closed" });
    expect(await usage(id)).toEqual({ router: true, transports: 1, producers: 1, consumers: 0 });
    // Nothing more arrives (after what was in flight and libwebrtc's stats cache have settled).
    await sleep(500);
    const received = (await inboundTotals(viewer)).videoBytes;
    await sleep(1000);
    expect((await inboundTotals(viewer)).videoBytes).toBe(received);

    // The publisher leaves.
    expect((await customer.post('/conferences/leave', { conferenceId: id, userEndpointId: 'ep-c' })).status).toBe(204);
    await waitFor(async () => (await usage(id)).transports === 0, { description: "the publisher's transport closed" });
    expect(await usage(id)).toEqual({ router: true, transports: 0, producers: 0, consumers: 0 });
  });
});
