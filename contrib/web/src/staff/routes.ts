// The staff app's pages by path. Each path must also be a route in
// lib/api/vh_routes.c (served with index.html), or a reload finds 404.
// Pages load when first visited, so the sign-in and search pages stay light.
import type { ComponentType } from 'preact';
import type { Session } from '../shared/api';

export interface PageProps { session: Session; params: Record<string, string> }
export interface Route {
  pattern: string;
  load: () => Promise<ComponentType<PageProps>>;
  roles?: string[];		// who may see it; all staff when absent
}

export const routes: Route[] = [
  { pattern: '/zoeken', load: () => import('./ZoekPagina').then((m) => m.ZoekPagina) },
  { pattern: '/verhalen/:id', load: () => import('./VerhaalPagina').then((m) => m.VerhaalPagina) },
  { pattern: '/werkbezoeken/:id', load: () => import('./VerhaalPagina').then((m) => m.VerhaalPagina) },
  // Dossiers, moderation, collections, export, admin (src/staff/*.tsx).
  { pattern: '/dossier', load: () => import('./Dossier').then((m) => m.Dossier) },
  { pattern: '/dossier/:code', load: () => import('./Dossier').then((m) => m.Dossier) },
  { pattern: '/moderatie', load: () => import('./Moderatie').then((m) => m.Moderatie), roles: ['admin', 'moderator'] },
  { pattern: '/collecties', load: () => import('./Collecties').then((m) => m.Collecties), roles: ['admin'] },
  { pattern: '/exporteren', load: () => import('./Exporteren').then((m) => m.Exporteren) },
  { pattern: '/beheer', load: () => import('./Beheer').then((m) => m.Beheer), roles: ['admin'] },
];
