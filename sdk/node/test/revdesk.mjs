// Runs the real server for the tests: builds cmd/revdesk with `go build -o`,
// starts `revdesk serve --dev` on a free port with a temporary SQLite file
// and a known API key, and talks to its API.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const API_KEY = "rdk_sdk_node_test_key_0123456789";

function goBinary() {
  if (process.env.GO) return process.env.GO;
  return existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : "go";
}

export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), "revdesk-sdk-node-"));
  const bin = join(dir, "revdesk");
  execFileSync(goBinary(), ["build", "-o", bin, "./cmd/revdesk"], { cwd: repo, stdio: ["ignore", "inherit", "inherit"] });
  const child = spawn(bin, ["serve", "--dev", "--addr", "127.0.0.1:0", "--db", `sqlite:${join(dir, "revdesk.db")}`, "--retry-schedule", ""], {
    env: { ...process.env, REVDESK_API_KEY: API_KEY },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let logs = "";
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`revdesk did not start:\n${logs}`)), 30_000);
    const onData = (chunk) => {
      logs += chunk;
      // The "listening" log line names the port the kernel chose.
      const m = /msg=listening addr=(\S+)/.exec(logs);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`revdesk exited with ${code}:\n${logs}`));
    });
  });
  async function api(method, path, body) {
    const res = await fetch(base + path, {
      method,
      headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
  async function stop() {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return { base, api, stop, logs: () => logs };
}
