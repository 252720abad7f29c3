// Reference lists the pages share (themes, areas, collections), fetched
// once per page load.
import * as api from './api';

let themesP: Promise<api.Theme[]> | null = null;
let areasP: Promise<api.Area[]> | null = null;
let collectionsP: Promise<api.Collection[]> | null = null;

export function themes(): Promise<api.Theme[]> {
  themesP ??= api.themes().catch((e) => { themesP = null; throw e; });
  return themesP;
}
export function areas(): Promise<api.Area[]> {
  areasP ??= api.areas().catch((e) => { areasP = null; throw e; });
  return areasP;
}
export function collections(): Promise<api.Collection[]> {
  collectionsP ??= api.collections().catch((e) => { collectionsP = null; throw e; });
  return collectionsP;
}

// Wijken in code order, each with its buurten.
export interface WijkTree { wijk: api.Area; buurten: api.Area[] }
export function tree(list: api.Area[]): WijkTree[] {
  const byCode = (a: api.Area, b: api.Area) => a.code.localeCompare(b.code);
  return list.filter((a) => a.level === 'wijk').sort(byCode).map((wijk) => ({
    wijk, buurten: list.filter((a) => a.level === 'buurt' && a.parent === wijk.code).sort(byCode),
  }));
}
