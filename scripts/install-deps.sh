#!/usr/bin/env bash
# Installs every build and test dependency of sparsim from Debian packages.
# Idempotent; run as root on Debian 12 (bookworm). CUDA is optional and not installed here.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps.sh: must run as root (apt-get install)" >&2
  exit 2
fi

packages=(
  build-essential cmake ninja-build pkg-config git
  libsimgrid-dev
  libboost-graph-dev libboost-program-options-dev
  libyaml-cpp-dev
  catch2
  libbenchmark-dev
  nlohmann-json3-dev
  libfmt-dev
  libopenmpi-dev openmpi-bin
  libopenblas-dev
  gnuplot-nox
  fortunes-min fortunes-zh
  python3
  clang libclang-rt-14-dev   # the fuzz targets: clang 14 with libFuzzer, ASan and UBSan runtimes
)
# Optional extras: chromium for the report browser test (SPARSIM_WITH_BROWSER=1).
if [[ "${SPARSIM_WITH_BROWSER:-0}" == 1 ]]; then
  packages+=(chromium)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps.sh: all ${#packages[@]} packages already installed" >&2
  exit 0
fi

echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps.sh: done" >&2
