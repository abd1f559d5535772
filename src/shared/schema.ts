/** zod field shapes used by more than one module's input schemas. */
import { z } from 'zod';
import { invalid, type Issue } from './errors.ts';

/** Optional free text: trimmed, at most `max` characters; empty means none (null). */
export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .nullish()
    .transform((v) => (v === '' ? null : v));

/** zod's issues as ours: each located by its field path. */
export function zodIssues(error: { issues: { path: PropertyKey[]; message: string }[] }): Issue[] {
  return error.issues.map((i) => ({ where: i.path.map(String).join('.') || '(input)', message: i.message }));
}

/** Parses `value` or throws a validation error that names every field that was wrong. */
export function parseOrThrow<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    throw invalid(`The ${what} is not valid: ${issues.map((i) => `${i.where} ${i.message}`).join('; ')}`, issues);
  }
  return parsed.data;
}
