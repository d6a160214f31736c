// The charting library, inlined: the minified browser builds of vega, vega-lite and vega-embed
// read from node_modules, made safe to place inside <script> elements, and JSON made safe to
// place inside <script type="application/json">.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { QuantevalError } from "../../util/errors.js";

const require = createRequire(import.meta.url);

/** The package's root folder, found from its main entry (the build files are not exported). */
function packageRoot(name: string): string {
  let dir = dirname(require.resolve(name));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string };
      if (pkg.name === name) return dir;
    } catch {
      // no package.json at this level: go up
    }
    dir = dirname(dir);
  }
  throw new QuantevalError(`cannot find the '${name}' package's folder; reinstall quanteval's dependencies (npm ci)`);
}

/**
 * Makes script text safe inside an HTML <script> element: the HTML parser ends the element at
 * the first "</script" and treats "<!--" specially, so both are broken up with a backslash
 * (which JavaScript ignores inside strings, regular expressions and comments, the only places
 * those sequences can occur in valid code).
 */
export function escapeScriptText(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/**
 * JSON for a <script type="application/json"> element: `<`, `>`, `&` and the two line
 * separators become \u escapes, so no data can end the element or open a comment.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

let cached: Array<{ name: string; version: string; code: string }> | undefined;

/** vega, vega-lite and vega-embed browser builds, in load order, escaped for inlining. */
export function chartLibraries(): Array<{ name: string; version: string; code: string }> {
  if (cached) return cached;
  const files: Array<[string, string]> = [
    ["vega", "build/vega.min.js"],
    ["vega-lite", "build/vega-lite.min.js"],
    ["vega-embed", "build/vega-embed.min.js"],
  ];
  cached = files.map(([name, file]) => {
    const root = packageRoot(name);
    const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
    let code: string;
    try {
      code = readFileSync(join(root, file), "utf8");
    } catch {
      throw new QuantevalError(`${join(root, file)}: the ${name} browser build is missing; reinstall quanteval's dependencies (npm ci)`);
    }
    // A source-map comment would make the browser look for a file that is not there.
    code = code.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, "\n");
    return { name, version, code: escapeScriptText(code) };
  });
  return cached;
}
