import { Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiNoContentResponse, ApiNotFoundResponse, ApiOAuth2, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Asset, AssetFields, type BlobRef, type RequestContext, type SignedUrl, SnapshotCommands, SnapshotQueries, UploadTargetQueries } from '@parley/contracts';
import type { NatsRpcClient } from '@parley/messaging';
import { Access, Command } from './access';
import { ApiCommonErrors } from './api-docs';
import { GatewayFiles } from './files';
import { ApiInternalSignedUrlHeader, ApiMultipartUpload, ApiSignedUrl, SignedDownload, internalSignedUrlHeader } from './files-docs';
import { idParam, idQuery, singleQuery } from './http-params';
import { Ctx } from './request-context';
import { RPC_CLIENT } from './tokens';

const NOT_FOUND = 'No such asset in your organization (or not one your roles may see).';

/** The spec's Assets endpoints: an organization's files, decided by the snapshot service, streamed by the gateway. */
@ApiTags('Assets')
@ApiBearerAuth()
@ApiOAuth2([])
@ApiBadRequestResponse({ description: 'Malformed input: the message names each field.' })
@ApiCommonErrors()
@Controller('assets')
export class AssetsController {
  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: NatsRpcClient,
    @Inject(GatewayFiles) private readonly files: GatewayFiles,
  ) {}

  @Get()
  @Access('readAsset')
  @ApiOperation({ summary: "An application's assets, by id.", description: 'Those whose rolesAllowedAccess names one of the caller\'s roles (SERVICE and ADMIN see all). At most 1,000.' })
  @ApiQuery({ name: 'applicationId', required: true, type: String })
  @ApiOkResponse({ type: [Asset] })
  list(@Query('applicationId') applicationId: unknown, @Ctx() ctx: RequestContext): Promise<Asset[]> {
    return this.rpc.request(SnapshotQueries.assets, { applicationId: idQuery(applicationId, 'applicationId') }, ctx);
  }

  @Post(':assetId')
  @Command('manageAssets')
  @HttpCode(204)
  @ApiOperation({ summary: 'Uploads an asset, or replaces the one with this id.' })
  @ApiMultipartUpload(AssetFields, 'file', 'What the asset is and who may see it, and the file.')
  @ApiNoContentResponse({ description: 'Stored.' })
  async upload(@Param('assetId') id: string, @Req() req: FastifyRequest, @Ctx() ctx: RequestContext): Promise<void> {
    const assetId = idParam(id, 'assetId');
    await this.files.upload(req, ctx, { fileField: 'file', fields: AssetFields, extra: { assetId }, target: UploadTargetQueries.uploadAsset, command: SnapshotCommands.uploadAsset });
  }

  @Delete(':assetId')
  @Command('manageAssets')
  @HttpCode(204)
  @ApiOperation({ summary: 'Deletes an asset: its URLs stop working. Deleting one that is not there changes nothing (204).' })
  @ApiNoContentResponse({ description: 'Deleted, or not there.' })
  async delete(@Param('assetId') id: string, @Ctx() ctx: RequestContext): Promise<void> {
    await this.rpc.request(SnapshotCommands.deleteAsset, { assetId: idParam(id, 'assetId') }, ctx);
  }

  @Post(':assetId/signedUrl')
  @Access('readAsset')
  @HttpCode(200)
  @ApiOperation({ summary: 'A URL that downloads the asset without a token.', description: "Parley's own with X-Auvious-CreateInternalSignedUrl or a filesystem store, else the S3 service's presigned URL." })
  @ApiInternalSignedUrlHeader()
  @ApiSignedUrl('the asset')
  @ApiNotFoundResponse({ description: NOT_FOUND })
  async signedUrl(@Param('assetId') id: string, @Headers('x-auvious-createinternalsignedurl') internal: unknown, @Req() req: FastifyRequest, @Ctx() ctx: RequestContext): Promise<SignedUrl> {
    const assetId = idParam(id, 'assetId');
    this.files.checkReferer(req);
    const ref = await this.rpc.request<BlobRef>(SnapshotQueries.blob, { kind: 'asset', id: assetId }, ctx);
    return this.files.signedUrl(req, ref, internalSignedUrlHeader(internal));
  }

  @Get('signed/:assetId/:expiration')
  @SignedDownload('an asset')
  async signed(@Param('assetId') id: string, @Param('expiration') expiration: string, @Query('signature') signature: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.files.serve(req, reply, 'asset', idParam(id, 'assetId'), expiration, singleQuery(signature, 'signature'));
  }
}
