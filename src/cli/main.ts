import yargs, { type Argv, type CommandModule } from 'yargs';
import { EXIT, UsageError } from '../errors.js';
import { commands } from './commands/index.js';

/**
 * The CLI entry point. Returns the exit code instead of calling process.exit so that tests can run the
 * real CLI in-process and so that pending writes (results, atomic renames) finish before Node exits.
 *
 * One top-level catch maps every UsageError (bad flag, bad input file, missing data) to exit code 2 and a
 * single line on stderr; anything else is a bug: exit code 3 (EXIT.internal), a line saying so, and the
 * stack trace with --verbose.
 */
export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  let code: number = EXIT.ok;
  const cli = yargs(argv)
    .scriptName('flan-eval')
    .usage('$0 <command> [options]\n\nEvaluate encoder-decoder models on MMLU, BBH, TyDiQA and MGSM the way the Flan-T5 paper did.')
    .option('verbose', { type: 'boolean', description: 'print stack traces and debug logs', global: true })
    .strict()
    .demandCommand(1, 'name a command; `flan-eval --help` lists them')
    .recommendCommands()
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      // yargs calls this for its own validation failures (msg set) and for errors thrown by handlers.
      throw err ?? new UsageError(msg);
    });
  for (const command of commands) cli.command(command as CommandModule);
  try {
    const args = await cli.parseAsync();
    const handlerCode = (args as { exitCode?: number }).exitCode;
    if (typeof handlerCode === 'number') code = handlerCode;
  } catch (e) {
    code = reportError(e, verbose);
  }
  return code;
}

/** Handlers return their exit code by setting argv.exitCode; see setExitCode. */
export function setExitCode(argv: object, code: number): void {
  (argv as { exitCode?: number }).exitCode = code;
}

/** Print one error and return its exit code: 2 for what the user can fix, 3 for a bug. */
export function reportError(e: unknown, verbose: boolean): number {
  if (e instanceof UsageError) {
    process.stderr.write(`flan-eval: ${e.message}\n`);
    if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    return EXIT.usage;
  }
  const err = e as Error;
  process.stderr.write(`flan-eval: internal error: ${err?.message ?? String(e)}\n`);
  if (verbose) process.stderr.write(`${err?.stack ?? ''}\n`);
  else process.stderr.write('flan-eval: this is a bug (exit code 3); rerun with --verbose for the stack trace and report it\n');
  return EXIT.internal;
}

export type { Argv };
