import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { ExitCode } from './errors.js';
import { UserError } from '../user-error.js';

/** The only place that ends the process; everything else returns or throws. */
async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return program.exitCode;
  } catch (error) {
    return exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version surface here too, with exit code 0; commander printed them.
    return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  }
  if (error instanceof UserError) {
    process.stderr.write(`vipkit: ${error.message}\n`);
    return ExitCode.Usage;
  }
  // A bug, not bad input: say so in one line; VIPKIT_DEBUG=1 shows the stack for a report.
  const detail = error instanceof Error && process.env['VIPKIT_DEBUG'] ? error.stack : String(error);
  process.stderr.write(`vipkit: internal error (please report it): ${detail}\n`);
  return ExitCode.Internal;
}

/**
 * A reader that stops early (`vipkit watch -r dump.mrt | head`) closes the pipe: nothing
 * more can be said and nothing went wrong, so the command ends (exit 0) instead of dying
 * of the write error. A speaker (`run`) whose log reader went away keeps serving.
 */
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  if (process.argv[2] !== 'run') process.exit(ExitCode.Ok);
});

process.exit(await main(process.argv));
