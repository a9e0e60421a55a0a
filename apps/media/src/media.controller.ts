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
import { parleyValidationPipe, requestContextOf } from '@parley/messaging';
import { KIT } from '@parley/service-kit';
import type { MediaKit } from './settings';
import { type IceServersResultV2, iceServersFor } from './ice-servers';
import { Sfu, roomOf } from './sfu/sfu';

const valid = parleyValidationPipe();

/**
 * The SFU's NATS handlers. Only the conference service calls them, after it has checked the
 * caller against the conference; the SFU checks what is its own (SDP, streams, viewers).
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
    return this.sfu.publish({ ...req, userId: requestContextOf(nats).actor.userId });
  }

  @MessagePattern(MediaCommands.view)
  view(@Payload(valid) req: MediaViewRequest, @Ctx() nats: NatsContext): Promise<MediaViewResponse> {
    return this.sfu.view({ ...req, userId: requestContextOf(nats).actor.userId });
  }

  @MessagePattern(MediaCommands.addPublishIceCandidates)
  addPublishIceCandidates(@Payload(valid) req: MediaIceCandidatesRequest): null {
    this.sfu.addIceCandidates({ organizationId: req.organizationId, conferenceId: req.conferenceId, streamId: req.streamId, candidates: req.candidates });
    return null;
  }

  @MessagePattern(MediaCommands.addViewIceCandidates)
  addViewIceCandidates(@Payload(valid) req: MediaIceCandidatesRequest): null {
    this.sfu.addIceCandidates(req);
    return null;
  }

  @MessagePattern(MediaCommands.setPublishedBitrate)
  async setPublishedBitrate(@Payload(valid) req: MediaBitrateRequest): Promise<null> {
    await this.sfu.setMaxIncomingBitrate(req);
    return null;
  }

  @MessagePattern(MediaCommands.release)
  release(@Payload(valid) req: MediaReleaseRequest): null {
    const room = roomOf(req.organizationId, req.conferenceId);
    if (req.viewerId) this.sfu.stopView(room, req.streamId, req.viewerId);
    else this.sfu.unpublish(room, req.streamId);
    return null;
  }
}
