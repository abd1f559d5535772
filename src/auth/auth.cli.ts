// PLACEHOLDER: replaced by the auth implementation (`admin create`).
import type { Command } from '../cli/command.ts';

export const authCommands: Command[] = [];
