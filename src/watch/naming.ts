/**
 * Names the watcher gives: the list id of an object (deterministic: the same object, watched by any
 * number of watchers, any number of times, is the same list) and where its results go. Pure.
 */
import { createHash } from 'node:crypto';
import { joinLocation, type Location } from '../storage/index.js';
import type { WatchedObject } from './source.js';

/** Longest readable part of a list id taken from the object's name. */
const SLUG_MAX = 60;

/** `team/March 2026.csv` → `team-March-2026`. */
function slug(name: string): string {
  const s = stripExtension(name)
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '');
  return s.slice(0, SLUG_MAX).replace(/[-._]+$/, '');
}

export function stripExtension(name: string): string {
  return name.replace(/\.[^./]*$/, '');
}

/**
 * The list id of an object: `w-<name>-<hash>`, the hash over the watched prefix, the object's name and
 * its version (ETag). Another version of the same name is another list.
 */
export function watchListId(sourceUrl: string, o: Pick<WatchedObject, 'name' | 'version'>): string {
  const hash = createHash('sha256').update(`${sourceUrl}\0${o.name}\0${o.version}`).digest('hex').slice(0, 20);
  const s = slug(o.name);
  return s ? `w-${s}-${hash}` : `w-${hash}`;
}

/**
 * Where an object's results go: `<out>/<name without extension>/`.
 * @throws ListwashError `STORAGE_BAD_URL` for a name that is not a safe relative path (`..`, empty segments).
 */
export function watchOutput(out: Location, name: string): Location {
  return joinLocation(out, `${stripExtension(name)}/`);
}
