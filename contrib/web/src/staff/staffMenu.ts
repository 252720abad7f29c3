// The menu lines of the staff pages (dossier, moderation, collections,
// export, admin), with the roles that see them.
import { st } from './staffI18n';

export const staffMenu: { href: string; label: () => string; roles?: string[] }[] = [
  { href: '/dossier', label: () => st('nav.dossier') },
  { href: '/moderatie', label: () => st('nav.moderation'), roles: ['admin', 'moderator'] },
  { href: '/collecties', label: () => st('nav.collections'), roles: ['admin'] },
  { href: '/exporteren', label: () => st('nav.export') },
  { href: '/beheer', label: () => st('nav.admin'), roles: ['admin'] },
];
