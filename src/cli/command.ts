/** The shape of a CLI command; each module exports its own commands. */
import type { ParseArgsConfig } from 'node:util';
import type { Schoolgate } from '../app.ts';
import type { Config } from '../config/config.ts';

/** What a command gets: its parsed flags and positionals, and lazy access to the app. */
export interface CommandContext {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  /** Loaded configuration (with --config and SCHOOLGATE_* applied). */
  config(): Config;
  /** Builds the app (opening and migrating the store); closed for you at the end. */
  app(): Promise<Schoolgate>;
  /** Progress and results for people (stdout). */
  out(line: string): void;
  /** Overwrites the current terminal line (progress bars); a plain line when not a TTY. */
  progress(line: string): void;
}

/** One `schoolgate` subcommand. */
export interface Command {
  /** Words that select it: `people import`. */
  name: string;
  summary: string;
  /** Usage line after `schoolgate`, and a longer help text. */
  usage: string;
  help?: string;
  options?: ParseArgsConfig['options'];
  /** Returns the exit code (0 on success). */
  run(ctx: CommandContext): Promise<number>;
}
