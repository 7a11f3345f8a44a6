// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with type
// definitions, from src/ with the pinned TypeScript. With --check it builds
// into a temporary folder and fails if the committed dist/ differs, and
// type-checks the examples: the CI check that dist/ is current.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
if (!existsSync(tsc)) {
  console.error("typescript is not installed: run `npm ci` in sdk/node first");
  process.exit(1);
}
const check = process.argv.includes("--check");
const out = check ? mkdtempSync(join(tmpdir(), "revdesk-node-dist-")) : join(root, "dist");

async function run(...args) {
  try {
    await promisify(execFile)(process.execPath, [tsc, ...args], { cwd: root });
  } catch (e) {
    console.error(`tsc ${args.join(" ")} failed:\n${e.stdout}${e.stderr}`);
    process.exit(1);
  }
}

rmSync(out, { recursive: true, force: true });
// The compilations are independent: run them side by side.
await Promise.all([
  run("-p", "tsconfig.json", "--outDir", join(out, "esm")),
  run("-p", "tsconfig.cjs.json", "--outDir", join(out, "cjs")),
  ...(check ? [run("-p", "tsconfig.examples.json")] : []),
]);
// The package is "type": "module"; this marks the CommonJS half as such.
mkdirSync(join(out, "cjs"), { recursive: true });
writeFileSync(join(out, "cjs", "package.json"), '{\n  "type": "commonjs"\n}\n');

if (check) {
  const files = (dir) =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)))
      .sort();
  const committed = join(root, "dist");
  const want = files(out);
  const got = existsSync(committed) ? files(committed) : [];
  const stale = want.filter((f) => !got.includes(f) || !readFileSync(join(out, f)).equals(readFileSync(join(committed, f))));
  const extra = got.filter((f) => !want.includes(f));
  rmSync(out, { recursive: true, force: true });
  if (stale.length || extra.length) {
    console.error(`sdk/node/dist is stale (${[...stale, ...extra].join(", ")}): run npm run build in sdk/node`);
    process.exit(1);
  }
  console.log(`dist/ is current (${want.length} files); examples type-check`);
}
