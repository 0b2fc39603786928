#!/usr/bin/env bash
# Installs the Debian 12 packages metron needs that are missing (nothing else is
# downloaded at build time). Safe to run again: it only calls apt-get when a package
# is absent. Usage: scripts/install-deps.sh [--bench]   (--bench adds the peers)
# chromium, chromium-driver and python3-selenium: the dashboard's browser test.
# libprotobuf-dev, protobuf-compiler, libsnappy-dev: the remote-write module (protobuf + snappy).
set -euo pipefail

packages=(g++ cmake make pkgconf libcaf-dev libboost-dev libgtest-dev libgmock-dev libbenchmark-dev
          prometheus prometheus-cpp-dev libtbb-dev curl ca-certificates dpkg-dev xz-utils
          libssl-dev openssl iproute2 util-linux
          chromium chromium-driver python3-selenium
          libprotobuf-dev protobuf-compiler libsnappy-dev)

# Selenium and chromedriver talk to each other over "localhost". Every installed
# Debian resolves it through /etc/hosts; a bare root made by debootstrap (a container,
# a chroot) has no /etc/hosts, so the standard loopback lines are added there, once.
ensure_localhost() {
  getent hosts localhost >/dev/null && return 0
  local sudo_tee=(tee -a /etc/hosts)
  [ "$(id -u)" -ne 0 ] && sudo_tee=(sudo tee -a /etc/hosts)
  echo "install-deps: 'localhost' does not resolve; adding it to /etc/hosts"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' | "${sudo_tee[@]}" >/dev/null
}
ensure_localhost

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# --no-install-recommends keeps a fresh machine small; the prometheus server does not
# need its recommended node exporter.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
