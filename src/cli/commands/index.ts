import type { CommandModule } from 'yargs';
import { runCommand } from './run.js';
import { mergeCommand } from './merge.js';
import { makeTestModelCommand } from './makeTestModel.js';
import { compareCommand } from './compare.js';
import { planCommand } from './plan.js';
import { dataCommand } from './data.js';
import { modelsCommand } from './models.js';
import { promptsCommand } from './prompts.js';
import { reportCommand } from './report.js';
import { scoreCommand } from './score.js';
import { doctorCommand } from './doctor.js';

/**
 * Every subcommand, one file each. Add a new command here; the order is the order of `--help`.
 */
export const commands: CommandModule<any, any>[] = [
  runCommand,
  mergeCommand,
  promptsCommand,
  scoreCommand,
  reportCommand,
  compareCommand,
  planCommand,
  dataCommand,
  modelsCommand,
  makeTestModelCommand,
  doctorCommand,
];
