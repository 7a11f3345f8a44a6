"""Runs the real server for the tests: builds cmd/revdesk with ``go build -o``, starts
``revdesk serve --dev`` on a free port with a temporary SQLite file and a known API key."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[3]
API_KEY = "rdk_sdk_python_test_key_0123456789"


def _go():
    if os.environ.get("GO"):
        return os.environ["GO"]
    return "/usr/local/go/bin/go" if os.path.exists("/usr/local/go/bin/go") else "go"


class Server:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="revdesk-sdk-python-")
        binary = os.path.join(self.dir, "revdesk")
        subprocess.run([_go(), "build", "-o", binary, "./cmd/revdesk"], cwd=REPO, check=True)
        env = dict(os.environ, REVDESK_API_KEY=API_KEY)
        args = [binary, "serve", "--dev", "--addr", "127.0.0.1:0", "--db", "sqlite:" + os.path.join(self.dir, "revdesk.db"), "--retry-schedule", ""]
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.logs = []
        found = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.logs.append(line)
                # The "listening" log line names the port the kernel chose.
                m = re.search(r"msg=listening addr=(\S+)", line)
                if m:
                    self.base = "http://" + m.group(1)
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(30):
            self.stop()
            raise RuntimeError("revdesk did not start:\n" + "".join(self.logs))

    def api(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + API_KEY)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read().decode("utf-8")
        return json.loads(text) if text else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_for(predicate, what, arrivals, cond, timeout=20.0):
    """Waits on cond (notified per arrival) until an arrival matches."""
    deadline = time.monotonic() + timeout
    with cond:
        while True:
            for a in arrivals:
                if predicate(a):
                    return a
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s within %.0f s; got %r" % (what, timeout, [(a["path"], a["status"]) for a in arrivals]))
            cond.wait(left)
