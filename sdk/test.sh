#!/usr/bin/env bash
# Runs the Node.js and Python receiver SDK tests (sdk/node, sdk/python),
# including their real-delivery tests, which build and start revdesk. It
# installs nothing; what it needs:
#   node >= 18 (Debian: nodejs), python3 >= 3.9 (Debian: python3), go;
#   for the dist/ check: `npm ci --prefix sdk/node` (Debian: npm), required when CI is set;
#   for the framework helpers: Debian's python3-flask python3-starlette python3-httpx
#   python3-fastapi python3-django, required when CI is set (skipped otherwise);
#   optionally Debian's mypy, which type-checks the Python package (--strict, Python 3.9).
# PYTHON picks the interpreter (default /usr/bin/python3, where Debian's
# framework packages are installed, else python3 on PATH).
set -euo pipefail
cd "$(dirname "$0")"

fail() { echo "sdk/test.sh: $*" >&2; exit 1; }

command -v node >/dev/null || fail "node not found: install Node.js 18 or newer (apt-get install nodejs)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
  fail "node $(node --version) is too old: Node.js 18 or newer is needed"
py=${PYTHON:-}
if [[ -z $py ]]; then
  if [[ -x /usr/bin/python3 ]]; then py=/usr/bin/python3; else py=python3; fi
fi
command -v "$py" >/dev/null || fail "$py not found: install Python 3.9 or newer (apt-get install python3)"
"$py" -c 'import sys; sys.exit(sys.version_info < (3, 9))' || fail "$("$py" --version) is too old: Python 3.9 or newer is needed"
command -v go >/dev/null || [[ -x /usr/local/go/bin/go ]] || fail "go not found: the real-delivery tests build revdesk"

if [[ -f node/node_modules/typescript/bin/tsc ]]; then
  (cd node && node scripts/build.mjs --check)
elif [[ -n ${CI:-} ]]; then
  fail "typescript is not installed: run npm ci --prefix sdk/node before sdk/test.sh (checks that sdk/node/dist is current)"
else
  echo "sdk/test.sh: skipping the sdk/node/dist check: npm ci --prefix sdk/node installs the pinned TypeScript"
fi

echo "== sdk/node: node --test ($(node --version))"
(cd node && node --test test/)

if "$py" -m mypy --version >/dev/null 2>&1; then
  echo "== sdk/python: mypy --strict"
  (cd python && "$py" -m mypy --strict --python-version 3.9 revdesk_webhooks)
fi

echo "== sdk/python: unittest ($("$py" --version), $py)"
frameworks=${CI:+required}
(cd python && REVDESK_SDK_FRAMEWORKS=${REVDESK_SDK_FRAMEWORKS:-$frameworks} "$py" -m unittest discover -s tests -t .)
