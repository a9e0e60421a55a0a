import { defineService } from '@parley/service-kit';
import { mediaConferenceEvents } from './conference-events.consumer';
import { MediaController } from './media.controller';
import { checkMediaSettings, mediaSettings } from './settings';
import { Sfu } from './sfu/sfu';

/**
 * The media service: mediasoup workers (MEDIASOUP_WORKER_BIN) and one router per conference,
 * its NATS handlers, and a consumer of conference events that closes media the conference no
 * longer has. No event store of its own.
 */
export const mediaService = defineService({
  name: 'media',
  settings: mediaSettings,
  controllers: [MediaController],
  checkSettings: checkMediaSettings,
  async setUp(kit) {
    const s = kit.settings;
    const sfu = new Sfu({ workers: s.workers, rtcMinPort: s.rtcMinPort, rtcMaxPort: s.rtcMaxPort, listenIp: s.listenIp, announcedIp: s.announcedIp, transportsPerUser: s.transportsPerUser });
    // A dead worker takes its routers' media with it; the process exits so a supervisor restarts it clean.
    await sfu.start((e) => {
      kit.log.error(`a mediasoup worker died: ${e.message}`);
      process.exit(1);
    });
    kit.log.info(`${s.workers} mediasoup worker(s), RTC ports ${s.rtcMinPort}-${s.rtcMaxPort} on ${s.listenIp}${s.announcedIp ? ` (announced ${s.announcedIp})` : ''}`);
    return { providers: [{ provide: Sfu, useValue: sfu }], part: { close: () => sfu.close(), gauges: () => sfu.load } };
  },
  consumers: (_kit, app) => [mediaConferenceEvents(app.get(Sfu))],
});
