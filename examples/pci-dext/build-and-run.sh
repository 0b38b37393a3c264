#!/usr/bin/env bash
# Builds the example against a dexthil build and runs its scenario: what the README of a dext
# project would tell its users to do. Usage: build-and-run.sh DEXTHIL_BUILD EXAMPLE_BUILD
set -euo pipefail
dexthil_build=$(cd "$1" && pwd)
example_build=$2
here=$(cd "$(dirname "$0")" && pwd)
cmake -S "$here" -B "$example_build" -G Ninja -Ddexthil_DIR="$dexthil_build" > /dev/null
cmake --build "$example_build"
"$dexthil_build/bin/dexthil" run --dexts "$example_build" "$here/scenario.toml"
