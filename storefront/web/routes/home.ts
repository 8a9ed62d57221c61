// The front page: what the site sells and a search box into the catalog.
import { Router } from 'express';
import type { Web } from '../deps.ts';

export function homeRoutes(web: Web): Router {
  const router = Router();
  router.get('/', (req, res) => {
    web.pages.render(req, res, 'home', { title: 'Phone numbers for your business' });
  });
  return router;
}
