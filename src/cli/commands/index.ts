import type { CommandModule } from 'yargs';

/**
 * Every subcommand, one file each. Add a new command here; the order is the order of `--help`.
 */
export const commands: CommandModule<any, any>[] = [];
