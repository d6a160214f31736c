#!/usr/bin/env node
// The quanteval command line: a thin layer over the library. User errors print one line and
// exit 2; so do failures of the machine (disk full, permissions, a read-only or corrupt run
// store); anything else is a bug and prints its stack.
import { Command, CommanderError } from "commander";
import { openStoreFile } from "../store/runStore.js";
import { explainStoreError, STORE_ERROR_PLACE } from "../store/storeErrors.js";
import { QuantevalError } from "../util/errors.js";
import { explainSystemError } from "../util/systemErrors.js";
import { quantevalVersion } from "../run/manifest.js";
import { registerRunCommand } from "./runCommand.js";
import { registerTasksCommand } from "./tasksCommand.js";
import { registerQuantizeCommand } from "./quantizeCommand.js";
import { registerImatrixCommand } from "./imatrixCommand.js";
import { registerSensitivityCommand } from "./sensitivityCommand.js";
import { registerCompareCommand } from "./compareCommand.js";
import { registerReportCommand } from "./reportCommand.js";
import { registerViewCommand } from "./viewCommand.js";
import { registerExportCommand } from "./exportCommand.js";
import { limitHeapGrowth } from "../util/heapGrowth.js";

// Peak memory follows the data, not V8's garbage (src/util/heapGrowth.ts).
limitHeapGrowth();

const program = new Command();
program.name("quanteval").description("What did quantization cost us? Evaluate quantized LLM variants against their baseline.").version(quantevalVersion());
program.exitOverride();
program.configureOutput({ outputError: (str, write) => write(str.split("\n")[0].replace(/^error: /, "quanteval: ") + "\n") });
registerRunCommand(program);
registerTasksCommand(program);
registerQuantizeCommand(program);
registerImatrixCommand(program);
registerSensitivityCommand(program);
registerCompareCommand(program);
registerReportCommand(program);
registerViewCommand(program);
registerExportCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  const user = e instanceof QuantevalError ? e : (explainSystemError(e) ?? explainStoreError(e, openStoreFile() ?? STORE_ERROR_PLACE));
  if (user) {
    process.stderr.write(`quanteval: ${user.message}\n`);
    process.exit(user.exitCode);
  }
  throw e;
}
