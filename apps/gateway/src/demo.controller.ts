import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@parley/auth';
import { DEV_SIGN_IN } from './tokens';

/** The folder of the demo page's files (apps/gateway/public), from src/ and dist/ alike. */
export const DEMO_DIR = join(__dirname, '..', 'public');

/** The demo page at `/`: a plain page a support agent can use for a call (its assets under /demo/). */
@ApiExcludeController()
@Controller()
export class DemoController {
  private readonly html = readFileSync(join(DEMO_DIR, 'index.html'), 'utf8');

  constructor(@Inject(DEV_SIGN_IN) private readonly devSignIn: boolean) {}

  @Get()
  @Public()
  @Header('content-type', 'text/html; charset=utf-8')
  index(): string {
    return this.html;
  }

  /** What the page offers: a sign-in form (development secret) or a pasted token. */
  @Get('demo.json')
  @Public()
  config(): { devSignIn: boolean } {
    return { devSignIn: this.devSignIn };
  }
}
