#!/usr/bin/env bash
# Builds an example dext project against a dexthil build and runs its scenario: what the README
# of a dext project would tell its users to do.
# Usage: build-and-run.sh EXAMPLE_DIR DEXTHIL_BUILD EXAMPLE_BUILD
set -euo pipefail
here=$(cd "$1" && pwd)
dexthil_build=$(cd "$2" && pwd)
example_build=$3
cmake -S "$here" -B "$example_build" -G Ninja -Ddexthil_DIR="$dexthil_build" > /dev/null
cmake --build "$example_build"
"$dexthil_build/bin/dexthil" run --dexts "$example_build" "$here/scenario.toml"
