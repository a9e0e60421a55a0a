import { applyDecorators, type Type } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiExtraModels, ApiForbiddenResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, getSchemaPath } from '@nestjs/swagger';
import { SignedUrl } from '@parley/contracts';
import { PublicRoute } from './access';

/** A multipart upload's body in the OpenAPI document: its fields (`fields`), then the file in the part `fileField`. */
export const ApiMultipartUpload = (fields: Type<object>, fileField: string, description: string) =>
  applyDecorators(
    ApiExtraModels(fields),
    ApiConsumes('multipart/form-data'),
    ApiBody({
      description: `${description} The fields come first and the file last (the part "${fileField}"): the file streams to storage once the fields are checked. Its type is its content's, whatever is declared. At most UPLOAD_MAX_BYTES (25 MB by default): larger is 413 and nothing is kept.`,
      schema: { allOf: [{ $ref: getSchemaPath(fields) }, { type: 'object', properties: { [fileField]: { type: 'string', format: 'binary' } }, required: [fileField] }] },
    }),
  );

/** A signedUrl route: the Referer it requires, and what it answers. */
export const ApiSignedUrl = (what: string) =>
  applyDecorators(
    ApiHeader({ name: 'Referer', required: true, description: 'The page asking: its origin must be among SIGNED_URL_ORIGINS (the gateway\'s own by default); another is 403, none 400.' }),
    ApiOkResponse({ type: SignedUrl, description: `A URL that downloads ${what} without a token until validUntil (SIGNED_URL_TTL_SECONDS).` }),
    ApiForbiddenResponse({ description: 'The Referer is not of an allowed origin.' }),
  );

/** A download of a signed URL: no token, the signature instead. */
export const SignedDownload = (what: string) =>
  applyDecorators(
    PublicRoute(),
    ApiOperation({ summary: `Downloads ${what} with a signed URL (no bearer token).`, description: 'The signature is checked before anything is read: an expired or tampered one is 403. Range requests are served (206). Gone (discarded, deleted): 404.' }),
    ApiQuery({ name: 'signature', required: true, type: String }),
    ApiProduces('application/octet-stream'),
    ApiOkResponse({ description: 'The bytes, with their Content-Type, Content-Length and Content-Disposition.' }),
    ApiForbiddenResponse({ description: 'The signature is missing, expired, or not Parley\'s for this file.' }),
  );

/** X-Auvious-CreateInternalSignedUrl: a URL of Parley's own even when the store is S3. */
export const ApiInternalSignedUrlHeader = () =>
  ApiHeader({ name: 'X-Auvious-CreateInternalSignedUrl', required: false, schema: { type: 'boolean' }, description: "true: a URL of Parley's own (GET …/signed/…) even when the store is S3 (whose presigned URL it is otherwise)." });

/** The header's value: true, false or absent (anything else 400 is not worth it: it is read as false). */
export const internalSignedUrlHeader = (value: unknown): boolean => typeof value === 'string' && value.trim().toLowerCase() === 'true';
