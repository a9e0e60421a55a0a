export { freePort } from './free-port';
export { startNats, startNatsCluster, type NatsServerHandle, type NatsClusterHandle, type StartNatsOptions } from './nats-server';
export { startPostgres, type PostgresHandle, type StartPostgresOptions } from './postgres-server';
export { spawnTs, type SpawnTsOptions, type TsChildHandle } from './spawn-ts';
export { processAlive } from './child-output';
export { waitFor, sleep, type WaitForOptions } from './wait-for';
export { mediasoupWorkerBin } from './mediasoup-worker';
export { peerConnection, syntheticMedia, inboundTotals, outboundTotals, sendOffer, receiveOffer, type WrtcPeerConnection, type SyntheticMedia, type SyntheticMediaOptions, type RtpTotals } from './wrtc';
export { REPOSITORY_ROOT } from './registry';
