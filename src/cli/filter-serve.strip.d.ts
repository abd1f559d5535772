/** Types of filter-serve.strip.js (plain JavaScript, so the process that loads it never loads the type stripper). */

/** Writes type-stripped copies of `entries` (relative to `root`) and every .ts module they reach into `cacheDir`; resolves to the directory they are in. */
export function build(root: string, cacheDir: string, entries: string[]): Promise<string>;

/** The module to run from: the stripped copy of `entry` (made first if needed), or the .ts source with a note saying why not. */
export function plainEntry(root: string, entry: string): { url: string; note: string | null };
