import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { type JsonSchema, asyncApiDocument } from '@parley/contracts';
import { Public } from '@parley/auth';

/** The AsyncAPI 3 document of the events Parley publishes on NATS, beside the OpenAPI one (`/rtc-api/docs/asyncapi.json`). */
@ApiExcludeController()
@Controller('docs')
export class AsyncApiController {
  private readonly document = asyncApiDocument('0.1.0');

  @Get('asyncapi.json')
  @Public()
  asyncapi(): JsonSchema {
    return this.document;
  }
}
