/** zod field shapes used by more than one module's input schemas. */
import { z } from 'zod';

/** Optional free text: trimmed, at most `max` characters; empty means none (null). */
export const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .nullish()
    .transform((v) => (v === '' ? null : v));
