import { deflateSync } from 'node:zlib';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf: Buffer): number => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real PNG of `width` × `height` RGB pixels, each pixel's colour from `seed` (so two images differ). */
export function pngImage(width = 4, height = 4, seed = 1): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(2, 9); // RGB
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    rows[row] = 0;
    for (let x = 0; x < width * 3; x++) rows[row + 1 + x] = (x * 31 + y * 17 + seed * 101) & 0xff;
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** What the snapshot service's flows record, every event type once at least: a snapshot asked for, acquired and approved; one discarded; one sent unasked; a camera request answered; a file sent; an asset uploaded and deleted. `agent` and `customer` have registered `agentEp` and `customerEp`. */
export async function snapshotServiceFlows(
  agent: { post: (path: string, body: unknown) => Promise<{ body: any }>; upload: (path: string, fields: Record<string, string>, file: { field: string; bytes: Uint8Array; type?: string; filename?: string }) => Promise<{ status: number; body: any }>; request: (method: string, path: string) => Promise<unknown> },
  customer: typeof agent,
  ids: { agent: string; customer: string; agentEp: string; customerEp: string },
  admin: typeof agent,
): Promise<void> {
  const ask = { applicationId: 'app-1', userEndpointId: ids.agentEp, targetUserId: ids.customer, targetUserEndpointId: ids.customerEp, interactionId: 'int-1' };
  const kept = (await agent.post('/snapshots/request', { ...ask, snapshotType: 'id' })).body.snapshotId;
  await customer.upload('/snapshots/acquire', { snapshotId: kept, userEndpointId: ids.customerEp }, { field: 'image', bytes: pngImage(4, 4, 1), type: 'image/png' });
  await agent.post('/snapshots/approve', { snapshotId: kept, userEndpointId: ids.agentEp, snapshotType: 'passport' });
  const dropped = (await agent.post('/snapshots/request', ask)).body.snapshotId;
  await agent.post('/snapshots/discard', { snapshotId: dropped, userEndpointId: ids.agentEp });
  await customer.upload(
    '/snapshots/upload',
    { applicationId: 'app-1', targetUserId: ids.agent, targetUserEndpointId: ids.agentEp, userEndpointId: ids.customerEp, snapshotType: 'selfie', relatedSnapshotId: kept },
    { field: 'image', bytes: pngImage(4, 4, 2), type: 'image/png' },
  );
  const camera = (await agent.post('/snapshots/cameraRequest', { userEndpointId: ids.agentEp, targetUserId: ids.customer, targetUserEndpointId: ids.customerEp, cameraRequestType: 'FLASH_ON' })).body;
  await customer.post('/snapshots/cameraRequestRespond', { snapshotCameraRequestId: camera, userEndpointId: ids.customerEp, succeeded: false, additionalInformation: 'no flash' });
  await agent.upload('/filetransfers?targetType=user', { applicationId: 'app-1', targetId: ids.customer, interactionId: 'int-1', userEndpointId: ids.agentEp }, { field: 'file', bytes: Buffer.from('%PDF-1.4 notes'), filename: 'notes.pdf' });
  await admin.upload('/assets/logo-1', { applicationId: 'app-1', category: 'logo', rolesAllowedAccess: 'agent,customer' }, { field: 'file', bytes: pngImage(2, 2, 5), filename: 'logo.png' });
  await admin.upload('/assets/logo-2', { applicationId: 'app-1', category: 'logo', rolesAllowedAccess: 'admin' }, { field: 'file', bytes: pngImage(2, 2, 6), filename: 'old.png' });
  await admin.request('DELETE', '/rtc-api/assets/logo-2');
}
