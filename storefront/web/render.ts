// Server-side rendering with Handlebars: every template under templates/ is read and parsed once, when the
// app is built (a syntax error stops the start, not a page view), compiled on first use and kept. Views
// render inside templates/layouts/main.hbs; `{{ }}` escapes, so only the layout's body is inserted raw.
// Also serves the CSS and JS under /assets with a year-long cache: their URLs carry a content hash.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type RequestHandler, type Response } from 'express';
import Handlebars from 'handlebars';
import type { Csrf } from './csrf.ts';
import { registerHelpers } from './helpers.ts';
import { currentSession } from './state.ts';

export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));
export const ASSETS_DIR = fileURLToPath(new URL('./assets', import.meta.url));
const ASSETS = ['site.css', 'site.js', 'favicon.svg', 'admin.css'] as const;

/** What every view gets besides its own data. */
export interface PageData {
  readonly title: string;
  readonly [key: string]: unknown;
}

export interface Pages {
  /** Renders `view` (a path under templates/, e.g. "auth/login") in the layout and sends it. */
  render(req: Request, res: Response, view: string, data: PageData, status?: number): void;
  /** Serves /assets. */
  readonly assets: RequestHandler;
}

export interface PagesOptions {
  readonly csrf: Csrf;
  /** Shown in development only: hints like "the link is in the server log". */
  readonly development: boolean;
  readonly templatesDir?: string;
  readonly assetsDir?: string;
}

type Template = Handlebars.TemplateDelegate;

export function createPages(options: PagesOptions): Pages {
  const templatesDir = options.templatesDir ?? TEMPLATES_DIR;
  const assetsDir = options.assetsDir ?? ASSETS_DIR;
  const hbs = Handlebars.create();
  registerHelpers(hbs);

  const views = new Map<string, Template>();
  const layouts = new Map<string, Template>();
  for (const file of listTemplates(templatesDir)) {
    const name = file
      .replace(/\.hbs$/, '')
      .split(path.sep)
      .join('/');
    const source = readFileSync(path.join(templatesDir, file), 'utf8');
    try {
      hbs.parse(source);
    } catch (error) {
      throw new Error(`templates/${file}: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    if (name.startsWith('partials/')) hbs.registerPartial(name.slice('partials/'.length), source);
    else if (name.startsWith('layouts/')) layouts.set(name.slice('layouts/'.length), compile(hbs, source));
    else views.set(name, compile(hbs, source));
  }
  const layout = layouts.get('main');
  if (!layout) throw new Error(`templates/layouts/main.hbs is missing (in ${templatesDir})`);

  const assetUrls = Object.fromEntries(
    ASSETS.map((name) => {
      const hash = createHash('sha256')
        .update(readFileSync(path.join(assetsDir, name)))
        .digest('hex')
        .slice(0, 10);
      // Made of a file name and hex digits only: safe to write unescaped ("=" would become &#x3D;).
      return [name.replace(/\W/g, '_'), new hbs.SafeString(`/assets/${name}?v=${hash}`)];
    }),
  );

  return {
    render(req, res, view, data, status = 200) {
      const template = views.get(view);
      if (!template) throw new Error(`No template "${view}" under templates/`);
      const session = currentSession(res);
      const context = {
        ...data,
        csrfToken: options.csrf.token(req, res),
        assets: assetUrls,
        development: options.development,
        path: req.path,
        nav: session
          ? {
              signedIn: true,
              name: session.user.name || session.user.email,
              accountName: session.account.name,
              reseller: session.account.kind === 'reseller',
              staff: session.account.kind === 'admin',
            }
          : { signedIn: false },
      };
      const body = template(context);
      const html = layout({ ...context, body });
      res.status(status).type('html').set('Cache-Control', 'no-store').send(html);
    },
    assets: express.static(assetsDir, { immutable: true, maxAge: '365d', index: false, redirect: false }),
  };
}

/** Compiled on first use, then kept: Handlebars compiles lazily and caches the result in the delegate. */
function compile(hbs: typeof Handlebars, source: string): Template {
  return hbs.compile(source, { strict: false, preventIndent: true });
}

function listTemplates(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...listTemplates(dir, relative));
    else if (entry.name.endsWith('.hbs')) out.push(relative);
  }
  return out.sort();
}
