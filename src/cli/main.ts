/** Entry point of the `schoolgate` command (started by bin/schoolgate.js). */
import { runCli } from './cli.ts';

process.exitCode = await runCli(process.argv.slice(2));
