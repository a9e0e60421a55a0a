import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@parley/auth';

/** The folder of the demo page's files (apps/gateway/public), from src/ and dist/ alike. */
export const DEMO_DIR = join(__dirname, '..', 'public');

/** The demo page at `/`: a plain page a support agent can use for a call (its assets under /demo/). */
@ApiExcludeController()
@Controller()
export class DemoController {
  private readonly html = readFileSync(join(DEMO_DIR, 'index.html'), 'utf8');

  @Get()
  @Public()
  @Header('content-type', 'text/html; charset=utf-8')
  index(): string {
    return this.html;
  }
}
