// PLACEHOLDER: replaced by the people implementation (`people import FILE`).
import type { Command } from '../cli/command.ts';

export const peopleCommands: Command[] = [];
