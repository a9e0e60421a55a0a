import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { MediaCommands, type RequestContext } from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import type { GatewayConfig } from './config';
import { Access } from './access';
import { ApiCommonErrors } from './api-docs';
import { Ctx } from './request-context';
import { GATEWAY_CONFIG, RPC_CLIENT } from './tokens';

class IceServersResultV2 {
  @ApiProperty({ example: 'stun:turn.example.org:3478' }) stun!: string;
  @ApiProperty({ example: 'turn:turn.example.org:3478?transport=udp' }) turn!: string;
  @ApiProperty({ description: '"<expiry unix seconds>:<userId>" (TURN REST API)' }) turnUsername!: string;
  @ApiProperty({ description: 'base64 HMAC-SHA1 of turnUsername with the shared secret' }) turnPassword!: string;
  @ApiProperty({ description: 'Seconds the credentials stay valid.' }) ttl!: number;
}

@ApiTags('ICE servers')
@ApiBearerAuth()
@ApiCommonErrors()
@Controller('iceServers')
export class IceServersController {
  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get('v2')
  @Access('iceServers')
  @ApiOperation({ summary: 'STUN/TURN servers and time-limited TURN credentials for WebRTC peers (TURN REST API scheme).' })
  @ApiOkResponse({ type: IceServersResultV2 })
  @ApiServiceUnavailableResponse({ description: 'TURN is not configured, or the media service is not running.' })
  iceServers(@Ctx() ctx: RequestContext): Promise<IceServersResultV2> {
    return this.rpc.request(MediaCommands.iceServers, {}, ctx, { timeoutMs: this.config.rpcTimeoutMs });
  }
}
