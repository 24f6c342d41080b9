# Shared shell helpers for the project's scripts. Source it: `. scripts/common.sh`.

# find_python 3.12 -> path of a CPython 3.12 interpreter (pyenv first, then python3.12 on PATH).
find_python() {
    local version="$1" candidate prefix
    if command -v pyenv >/dev/null 2>&1; then
        candidate=$(pyenv versions --bare 2>/dev/null | grep -E "^${version//./\\.}\.[0-9]+$" | sort -V | tail -n 1)
        if [ -n "$candidate" ]; then
            prefix=$(pyenv prefix "$candidate" 2>/dev/null)
            if [ -x "$prefix/bin/python$version" ]; then
                echo "$prefix/bin/python$version"
                return 0
            fi
        fi
    fi
    if command -v "python$version" >/dev/null 2>&1; then
        command -v "python$version"
        return 0
    fi
    return 1
}

# make_venv PYTHON DIR -> a virtual environment at DIR with autojit and its test tools.
make_venv() {
    local python="$1" dir="$2"
    "$python" -m venv --clear "$dir"
    "$dir/bin/python" -m pip install --quiet --upgrade pip
    "$dir/bin/python" -m pip install --quiet ".[test]"
}

log() { printf '\n=== %s\n' "$*"; }
