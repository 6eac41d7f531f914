#!/usr/bin/env bash
# Everything vipkit needs on a Debian 12 machine with Node.js >= 20, as root:
# the Debian packages (a C toolchain and python3 for node-gyp, libpcap-dev for cap,
# the lab's peers and independent eyes),
# the npm dependencies exactly as locked, and the build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential python3 libpcap-dev iproute2 bird2 gobgpd exabgp keepalived iputils-arping arp-scan tshark tcpdump tcpreplay)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
# cap builds a native addon at install time (approved in package.json allowScripts).
test -f node_modules/cap/build/Release/cap.node || { echo "setup: cap's native addon did not build (is libpcap-dev installed?)" >&2; exit 1; }
# patches/cap+0.2.1.patch gives frames the kernel's capture timestamp and lets a worker thread own a capture (see src/link/pcap-link.ts).
grep -q timestamp_us node_modules/cap/src/binding.cc && grep -q GetCurrentEventLoop node_modules/cap/src/binding.cc || { echo "setup: patches/cap+0.2.1.patch was not applied" >&2; exit 1; }
# native/ is vipkit's own addon for BGP TTLs and passwords (src/bgp/tcp-options.ts), built by postinstall.
test -f native/build/Release/tcp_options.node || { echo "setup: vipkit's native helper (native/) did not build (are build-essential and python3 installed?)" >&2; exit 1; }
npm run --silent build
