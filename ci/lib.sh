# Shared set-up for ci/test, ci/nightly and ci/bench: Debian packages, configure, build.
# Sourced, not run.
set -euo pipefail

DEXTHIL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$DEXTHIL_ROOT"

# Everything the build needs, from Debian 12 packages only.
DEXTHIL_PACKAGES=(
  cmake ninja-build g++ pkg-config
  verilator zlib1g-dev  # zlib: Verilator's FST waveform writer
  libgtest-dev libgmock-dev libbenchmark-dev
  libtomlplusplus-dev
  libboost-dev libboost-context-dev
  libplist-dev
  clang-14 libblocksruntime-dev  # dexts: C blocks need clang's -fblocks and the blocks runtime
  fio  # the storage tests record real iologs with it and replay them
)

dexthil_install_packages() {
  local missing=()
  local p
  for p in "${DEXTHIL_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "ci: missing Debian packages: ${missing[*]}" >&2
    echo "ci: install them as root with:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 2
  fi
  echo "ci: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# dexthil_build PRESET: configure (once) and build one of the CMakePresets.json presets.
dexthil_build() {
  local preset=$1
  if [ ! -f "build/$preset/CMakeCache.txt" ]; then
    cmake --preset "$preset"
  fi
  cmake --build --preset "$preset" -j "$(nproc)"
}
