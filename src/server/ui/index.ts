/**
 * The web UI `stepwise serve` answers at `/`: one HTML page, one script and
 * one stylesheet, all static strings (no build step, nothing fetched from
 * elsewhere). They need no token; the API calls the script makes do (the
 * login form turns a token into a session cookie, see ../session.ts). A
 * strict Content-Security-Policy allows only this origin's script and styles.
 */
import type { Hono } from 'hono';
import type { AuthEnv } from '../auth.js';
import { coreJs } from './client/core.js';
import { formJs } from './client/form.js';
import { inboxJs } from './client/inbox.js';
import { runJs } from './client/run.js';
import { runsJs } from './client/runs.js';
import { pageHtml } from './page.js';
import { styleCss } from './style.js';

/** The browser script: the parts in one strict-mode module, started once the page is parsed. */
export const appJs = ['"use strict";', coreJs, runsJs, runJs, formJs, inboxJs, 'boot();', ''].join('\n');

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export function mountUi(app: Hono<AuthEnv>): void {
  const serve = (path: string, type: string, body: string) =>
    app.get(path, (c) =>
      c.body(body, 200, {
        'Content-Type': type,
        'Content-Security-Policy': CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-cache',
      }),
    );
  serve('/', 'text/html; charset=utf-8', pageHtml);
  serve('/ui/app.js', 'text/javascript; charset=utf-8', appJs);
  serve('/ui/style.css', 'text/css; charset=utf-8', styleCss);
}
