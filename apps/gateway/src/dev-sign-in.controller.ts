import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn } from 'class-validator';
import { IsParleyId, type Role, Roles } from '@parley/contracts';
import { type IssuedToken, Public, TokenIssuer } from '@parley/auth';

export class DevSignInCommand {
  @IsParleyId() userId!: string;
  @IsParleyId() organizationId!: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(Roles.length) @IsIn(Roles, { each: true, message: `each role must be one of: ${Roles.join(', ')}` }) roles!: Role[];
}

/**
 * `POST /demo/token`: a token for whoever the demo page's sign-in form names. It exists only
 * while the gateway runs with the public development secret (no JWT_SECRET, no JWKS_URL), where
 * anyone can sign such a token anyway; with a real secret this route is not there (404).
 */
@ApiExcludeController()
@Controller('demo')
export class DevSignInController {
  constructor(private readonly issuer: TokenIssuer) {}

  @Post('token')
  @Public()
  @HttpCode(200)
  token(@Body() body: DevSignInCommand): Promise<IssuedToken> {
    return this.issuer.issue({ userId: body.userId, organizationId: body.organizationId, roles: body.roles });
  }
}
