#!/usr/bin/env node
// The quanteval command line: a thin layer over the library. User errors print one line and
// exit 2; anything else is a bug and prints its stack.
import { Command, CommanderError } from "commander";
import { QuantevalError } from "../util/errors.js";
import { quantevalVersion } from "../run/manifest.js";
import { registerRunCommand } from "./runCommand.js";
import { registerTasksCommand } from "./tasksCommand.js";
import { registerQuantizeCommand } from "./quantizeCommand.js";
import { registerCompareCommand } from "./compareCommand.js";
import { registerReportCommand } from "./reportCommand.js";
import { registerViewCommand } from "./viewCommand.js";
import { registerExportCommand } from "./exportCommand.js";

const program = new Command();
program.name("quanteval").description("What did quantization cost us? Evaluate quantized LLM variants against their baseline.").version(quantevalVersion());
program.exitOverride();
program.configureOutput({ outputError: (str, write) => write(str.split("\n")[0].replace(/^error: /, "quanteval: ") + "\n") });
registerRunCommand(program);
registerTasksCommand(program);
registerQuantizeCommand(program);
registerCompareCommand(program);
registerReportCommand(program);
registerViewCommand(program);
registerExportCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (e instanceof QuantevalError) {
    process.stderr.write(`quanteval: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  throw e;
}
