import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, Headers } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiNotFoundResponse, ApiOAuth2, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  type BlobRef,
  FILE_TRANSFER_TARGET_TYPES,
  FileTransfer,
  FileTransferFields,
  type FileTransferListQuery,
  FileTransferResult,
  ParleyError,
  type RequestContext,
  type SignedUrl,
  SnapshotCommands,
  SnapshotQueries,
  UploadTargetQueries,
} from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import { Access, Command } from './access';
import { ApiCommonErrors } from './api-docs';
import { GatewayFiles } from './files';
import { ApiInternalSignedUrlHeader, ApiMultipartUpload, ApiSignedUrl, SignedDownload, internalSignedUrlHeader } from './files-docs';
import { badField, idParam, optionalIdQuery, singleQuery } from './http-params';
import { Ctx } from './request-context';
import { RPC_CLIENT } from './tokens';


/** The spec's File Transfers endpoints: decided by the snapshot service, the files streamed by the gateway. */
@ApiTags('File_Transfers')
@ApiBearerAuth()
@ApiOAuth2([])
@ApiBadRequestResponse({ description: 'Malformed input: the message names each field.' })
@ApiCommonErrors()
@Controller('filetransfers')
export class FileTransfersController {
  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient,
    @Inject(GatewayFiles) private readonly files: GatewayFiles,
  ) {}

  @Post()
  @Command('transferFile')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sends a file to a user: every endpoint of the target user receives a FileTransferEvent.',
    description: 'With X-Auvious-TransactionId a retry answers the first fileTransferId and keeps one file.',
  })
  @ApiQuery({ name: 'targetType', required: true, enum: FILE_TRANSFER_TARGET_TYPES, description: 'user (any case): the target is a user id.' })
  @ApiMultipartUpload(FileTransferFields, 'file', 'Who the file is for and what it belongs to, and the file.')
  @ApiOkResponse({ type: FileTransferResult })
  transfer(@Query('targetType') targetType: unknown, @Req() req: FastifyRequest, @Ctx() ctx: RequestContext): Promise<FileTransferResult> {
    const t = singleQuery(targetType, 'targetType');
    if (t === undefined || t.toLowerCase() !== 'user') throw badField('targetType', 'targetType must be user');
    return this.files.upload(req, ctx, { fileField: 'file', fields: FileTransferFields, target: UploadTargetQueries.transferFile, command: SnapshotCommands.transferFile });
  }

  @Get()
  @Access('readFileTransfer')
  @ApiOperation({
    summary: 'File transfers of an interaction or a conference (or all), newest first.',
    description: 'Those the caller sent or received; with all=true, every one of the organization for staff (AGENT, SERVICE, ADMIN). At most 1,000.',
  })
  @ApiQuery({ name: 'interactionId', required: false, type: String, description: 'Only those of this interaction (not with conferenceId).' })
  @ApiQuery({ name: 'conferenceId', required: false, type: String, description: 'Only those of this conference (not with interactionId).' })
  @ApiQuery({ name: 'all', required: false, type: Boolean })
  @ApiOkResponse({ type: [FileTransfer] })
  list(@Query('interactionId') interactionId: unknown, @Query('conferenceId') conferenceId: unknown, @Query('all') all: unknown, @Ctx() ctx: RequestContext): Promise<FileTransfer[]> {
    const a = singleQuery(all, 'all');
    if (a !== undefined && a !== 'true' && a !== 'false') throw badField('all', 'all must be true or false');
    const interaction = optionalIdQuery(interactionId, 'interactionId');
    const conference = optionalIdQuery(conferenceId, 'conferenceId');
    if (interaction !== undefined && conference !== undefined) throw new ParleyError('BAD_REQUEST', 'interactionId and conferenceId cannot both be given', { fields: ['interactionId', 'conferenceId'] });
    const q: FileTransferListQuery = { ...(interaction !== undefined ? { interactionId: interaction } : {}), ...(conference !== undefined ? { conferenceId: conference } : {}), all: a === 'true' };
    return this.rpc.request(SnapshotQueries.fileTransfers, q, ctx);
  }

  @Post(':fileTransferId/signedUrl')
  @Access('readFileTransfer')
  @HttpCode(200)
  @ApiOperation({ summary: "A URL that downloads the transferred file without a token.", description: "Parley's own with X-Auvious-CreateInternalSignedUrl or a filesystem store, else the S3 service's presigned URL." })
  @ApiInternalSignedUrlHeader()
  @ApiSignedUrl('the file')
  @ApiNotFoundResponse({ description: 'No such file transfer in your organization (or not one you may see).' })
  async signedUrl(@Param('fileTransferId') id: string, @Headers('x-auvious-createinternalsignedurl') internal: unknown, @Req() req: FastifyRequest, @Ctx() ctx: RequestContext): Promise<SignedUrl> {
    const fileTransferId = idParam(id, 'fileTransferId');
    this.files.checkReferer(req);
    const ref = await this.rpc.request<BlobRef>(SnapshotQueries.blob, { kind: 'filetransfer', id: fileTransferId }, ctx);
    return this.files.signedUrl(req, ref, internalSignedUrlHeader(internal));
  }

  @Get('signed/:fileTransferId/:expiration')
  @SignedDownload('a transferred file')
  async signed(@Param('fileTransferId') id: string, @Param('expiration') expiration: string, @Query('signature') signature: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.files.serve(req, reply, 'filetransfer', idParam(id, 'fileTransferId'), expiration, singleQuery(signature, 'signature'));
  }
}
