import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiConflictResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOAuth2, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  type BlobRef,
  CreateSnapshotSignedURLWebCommand,
  type RequestContext,
  type SignedUrl,
  Snapshot,
  SnapshotAcquireFields,
  SnapshotApproveWebCommand,
  SnapshotCameraRequestRespondWebCommand,
  SnapshotCameraRequestWebCommand,
  SnapshotCommands,
  SnapshotDiscardWebCommand,
  SnapshotQueries,
  SnapshotRequestResult,
  SnapshotRequestWebCommand,
  SnapshotUploadFields,
  SnapshotUploadResult,
  UploadTargetQueries,
} from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import { Access, Command } from './access';
import { ApiCommonErrors } from './api-docs';
import { GatewayFiles } from './files';
import { ApiMultipartUpload, ApiSignedUrl, SignedDownload } from './files-docs';
import { idParam, idQuery, singleQuery } from './http-params';
import { Ctx } from './request-context';
import { RPC_CLIENT } from './tokens';

const NOT_FOUND = 'No such snapshot in your organization (or not one you may see).';

/** The spec's Snapshots endpoints: decided by the snapshot service, the images streamed by the gateway. */
@ApiTags('Snapshots')
@ApiBearerAuth()
@ApiOAuth2([])
@ApiBadRequestResponse({ description: 'Malformed input: the message names each field.' })
@ApiCommonErrors()
@Controller('snapshots')
export class SnapshotsController {
  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient,
    @Inject(GatewayFiles) private readonly files: GatewayFiles,
  ) {}

  @Post('request')
  @Command('askForCamera')
  @HttpCode(200)
  @ApiOperation({ summary: "Asks the target's camera for a snapshot.", description: "The target endpoint receives a SnapshotRequestedEvent; the requester's endpoint then hears of the image (SnapshotAcquiredEvent) and of its approval or discard." })
  @ApiOkResponse({ type: SnapshotRequestResult })
  @ApiNotFoundResponse({ description: 'The target user has no such registered endpoint.' })
  request(@Body() body: SnapshotRequestWebCommand, @Ctx() ctx: RequestContext): Promise<SnapshotRequestResult> {
    return this.rpc.request(SnapshotCommands.request, body, ctx);
  }

  @Post('acquire')
  @Command('answerCameraRequest')
  @HttpCode(204)
  @ApiOperation({ summary: 'The target answers a snapshot request with the image.', description: 'Only a REQUESTED snapshot takes an image (else 409 naming its state).' })
  @ApiMultipartUpload(SnapshotAcquireFields, 'image', 'The snapshot request answered, and the image.')
  @ApiNoContentResponse({ description: 'Stored: the snapshot is UPLOADED.' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiConflictResponse({ description: 'The snapshot is not REQUESTED.' })
  async acquire(@Req() req: FastifyRequest, @Ctx() ctx: RequestContext): Promise<void> {
    await this.files.upload(req, ctx, { fileField: 'image', fields: SnapshotAcquireFields, target: UploadTargetQueries.acquire, command: SnapshotCommands.acquire });
  }

  @Post('upload')
  @Command('uploadSnapshot')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sends a snapshot to a user, unasked (e.g. an annotated copy of another: relatedSnapshotId).', description: "The target's endpoint hears of it (SnapshotUploadedEvent) and may approve or discard it." })
  @ApiMultipartUpload(SnapshotUploadFields, 'image', 'The snapshot, and the image.')
  @ApiOkResponse({ type: SnapshotUploadResult })
  @ApiNotFoundResponse({ description: 'relatedSnapshotId names no snapshot the caller may see, or the target has no such registered endpoint.' })
  upload(@Req() req: FastifyRequest, @Ctx() ctx: RequestContext): Promise<SnapshotUploadResult> {
    return this.files.upload(req, ctx, { fileField: 'image', fields: SnapshotUploadFields, target: UploadTargetQueries.upload, command: SnapshotCommands.upload });
  }

  @Post('approve')
  @Command('judgeSnapshot')
  @HttpCode(204)
  @ApiOperation({ summary: 'Approves an UPLOADED snapshot (APPROVED), optionally with another type.', description: 'Approving an APPROVED one again changes nothing; a REQUESTED or DISCARDED one is 409.' })
  @ApiNoContentResponse({ description: 'Approved.' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiConflictResponse({ description: 'The snapshot is REQUESTED or DISCARDED.' })
  async approve(@Body() body: SnapshotApproveWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(SnapshotCommands.approve, body, ctx);
  }

  @Post('discard')
  @Command('judgeSnapshot')
  @HttpCode(204)
  @ApiOperation({ summary: 'Discards a snapshot (DISCARDED): its image is removed, its URLs stop working.', description: 'A REQUESTED one is cancelled; discarding again changes nothing.' })
  @ApiNoContentResponse({ description: 'Discarded.' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  async discard(@Body() body: SnapshotDiscardWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(SnapshotCommands.discard, body, ctx);
  }

  @Post('cameraRequest')
  @Command('askForCamera')
  @HttpCode(200)
  @Header('content-type', 'application/json; charset=utf-8')
  @ApiOperation({ summary: "Asks the target's camera to switch, or its flash to turn on or off (or what the caller names).", description: 'The target endpoint receives a SnapshotCameraRequestedEvent; its answer (cameraRequestRespond) reaches the requester\'s endpoint. Answers the request\'s id, a JSON string.' })
  @ApiOkResponse({ schema: { type: 'string' } })
  @ApiNotFoundResponse({ description: 'The target user has no such registered endpoint.' })
  async cameraRequest(@Body() body: SnapshotCameraRequestWebCommand, @Ctx() ctx: RequestContext): Promise<string> {
    return JSON.stringify(await this.rpc.request<string>(SnapshotCommands.cameraRequest, body, ctx));
  }

  @Post('cameraRequestRespond')
  @Command('answerCameraRequest')
  @HttpCode(204)
  @ApiOperation({ summary: 'The target answers a camera request: whether it succeeded.', description: 'Once: a second answer is 409.' })
  @ApiNoContentResponse({ description: 'Recorded; the requester\'s endpoint hears of it.' })
  @ApiNotFoundResponse({ description: 'No such camera request in your organization.' })
  @ApiConflictResponse({ description: 'It was answered already.' })
  async cameraRequestRespond(@Body() body: SnapshotCameraRequestRespondWebCommand, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(SnapshotCommands.cameraRequestRespond, body, ctx);
  }

  @Post('signedUrl')
  @Access('readSnapshot')
  @HttpCode(200)
  @ApiOperation({ summary: "A URL that downloads the snapshot's image without a token.", description: "Parley's own with createInternalSignedUrl or a filesystem store, else the S3 service's presigned URL. A snapshot without an image, or discarded: 404." })
  @ApiSignedUrl("the snapshot's image")
  @ApiNotFoundResponse({ description: NOT_FOUND })
  async signedUrl(@Body() body: CreateSnapshotSignedURLWebCommand, @Req() req: FastifyRequest, @Ctx() ctx: RequestContext): Promise<SignedUrl> {
    this.files.checkReferer(req);
    const ref = await this.rpc.request<BlobRef>(SnapshotQueries.blob, { kind: 'snapshot', id: body.snapshotId }, ctx);
    return this.files.signedUrl(req, ref, body.createInternalSignedUrl === true);
  }

  @Get('signed/:snapshotId/:expiration')
  @SignedDownload("a snapshot's image")
  async signed(@Param('snapshotId') id: string, @Param('expiration') expiration: string, @Query('signature') signature: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.files.serve(req, reply, 'snapshot', idParam(id, 'snapshotId'), expiration, singleQuery(signature, 'signature'));
  }

  @Get()
  @Access('readSnapshot')
  @ApiOperation({ summary: "An interaction's snapshots, newest first.", description: 'Staff (AGENT, SERVICE, ADMIN) see all of them; anyone else those it asked for or was asked for. At most 1,000.' })
  @ApiQuery({ name: 'interactionId', required: true, type: String })
  @ApiOkResponse({ type: [Snapshot] })
  list(@Query('interactionId') interactionId: unknown, @Ctx() ctx: RequestContext): Promise<Snapshot[]> {
    return this.rpc.request(SnapshotQueries.list, { interactionId: idQuery(interactionId, 'interactionId') }, ctx);
  }

  @Get(':snapshotId')
  @Access('readSnapshot')
  @ApiOperation({ summary: 'A snapshot by its id.' })
  @ApiOkResponse({ type: Snapshot })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(@Param('snapshotId') id: string, @Ctx() ctx: RequestContext): Promise<Snapshot> {
    return this.rpc.request(SnapshotQueries.get, { snapshotId: idParam(id, 'snapshotId') }, ctx);
  }
}
