import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  MediaBitrateRequest,
  MediaCommands,
  MediaIceCandidatesRequest,
  MediaPublishRequest,
  type MediaPublishResponse,
  MediaReleaseRequest,
  MediaViewRequest,
  type MediaViewResponse,
} from '@parley/contracts';
import { parleyValidationPipe, requestContextOf, requestFrom } from '@parley/messaging';
import { ParleyError, type RequestContext } from '@parley/contracts';
import { KIT } from '@parley/service-kit';
import type { MediaKit } from './settings';
import { type IceServersResultV2, iceServersFor } from './ice-servers';
import { Sfu, roomOf } from './sfu/sfu';

const valid = parleyValidationPipe();

/**
 * The SFU's NATS handlers. Its commands come from the conference service only, which has checked
 * the caller against the conference: each is refused unless the conference service signed its
 * caller (requestFrom), and acts only in that caller's organization. The SFU checks what is its
 * own (SDP, streams, viewers).
 */
@Controller()
export class MediaController {
  constructor(
    @Inject(Sfu) private readonly sfu: Sfu,
    @Inject(KIT) private readonly kit: MediaKit,
  ) {}

  @MessagePattern(MediaCommands.iceServers)
  iceServers(@Ctx() nats: NatsContext): IceServersResultV2 {
    return iceServersFor(this.kit.settings.iceServers, requestContextOf(nats).actor.userId, Math.floor(Date.now() / 1000));
  }

  @MessagePattern(MediaCommands.publish)
  publish(@Payload(valid) req: MediaPublishRequest, @Ctx() nats: NatsContext): Promise<MediaPublishResponse> {
    return this.sfu.publish({ ...req, userId: fromConference(nats, req).actor.userId });
  }

  @MessagePattern(MediaCommands.view)
  view(@Payload(valid) req: MediaViewRequest, @Ctx() nats: NatsContext): Promise<MediaViewResponse> {
    return this.sfu.view({ ...req, userId: fromConference(nats, req).actor.userId });
  }

  @MessagePattern(MediaCommands.addPublishIceCandidates)
  addPublishIceCandidates(@Payload(valid) req: MediaIceCandidatesRequest, @Ctx() nats: NatsContext): null {
    fromConference(nats, req);
    this.sfu.addIceCandidates({ organizationId: req.organizationId, conferenceId: req.conferenceId, streamId: req.streamId, candidates: req.candidates });
    return null;
  }

  @MessagePattern(MediaCommands.addViewIceCandidates)
  addViewIceCandidates(@Payload(valid) req: MediaIceCandidatesRequest, @Ctx() nats: NatsContext): null {
    fromConference(nats, req);
    this.sfu.addIceCandidates(req);
    return null;
  }

  @MessagePattern(MediaCommands.setPublishedBitrate)
  async setPublishedBitrate(@Payload(valid) req: MediaBitrateRequest, @Ctx() nats: NatsContext): Promise<null> {
    fromConference(nats, req);
    await this.sfu.setMaxIncomingBitrate(req);
    return null;
  }

  @MessagePattern(MediaCommands.release)
  release(@Payload(valid) req: MediaReleaseRequest, @Ctx() nats: NatsContext): null {
    fromConference(nats, req);
    const room = roomOf(req.organizationId, req.conferenceId);
    if (req.viewerId) this.sfu.stopView(room, req.streamId, req.viewerId);
    else this.sfu.unpublish(room, req.streamId);
    return null;
  }
}

/** A command of the conference service's, about a conference of its caller's organization. */
function fromConference(nats: NatsContext, req: { organizationId: string }): RequestContext {
  const caller = requestFrom(nats, 'conference');
  if (req.organizationId !== caller.actor.organizationId) throw new ParleyError('FORBIDDEN', `the caller acts in organization ${caller.actor.organizationId}, not ${req.organizationId}`);
  return caller;
}
