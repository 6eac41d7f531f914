#!/usr/bin/env bash
# Everything vipkit needs on a Debian 12 machine with Node.js >= 20, as root:
# the Debian packages (a C toolchain and python3 for node-gyp, libpcap-dev for cap,
# the lab's peers and independent eyes), a Kubernetes API server and kubectl built once
# from Debian's source (cached outside the work tree), the npm dependencies exactly as
# locked, and the build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential python3 libpcap-dev iproute2 bird2 gobgpd exabgp keepalived iputils-arping arp-scan tshark tcpdump tcpreplay bgpdump bzip2 etcd-server curl openssl)
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

# A real Kubernetes API server for the lab (src/lab/kube-apiserver.ts): Debian 12 ships
# none, but its source package kubernetes 1.20.2 (dependencies vendored) builds offline
# with Debian's Go. About 8 minutes and 1.3 GB of memory, so built once per machine, at
# the lowest priority, and cached outside the work tree; tests find it through
# VIPKIT_KUBERNETES_BIN, or in this cache by default.
kubernetes_version=1.20.2
kubernetes_cache=/var/cache/vipkit/kubernetes-$kubernetes_version
# The vendored reflect2 1.0.1 crashes under Go 1.18 and later ("fatal error: fault" in
# mapiterinit, e.g. on the first custom resource written); Debian's reflect2 1.0.2 replaces it.
kubernetes_build="kubernetes $kubernetes_version with Debian's reflect2 1.0.2"
if ! [[ -x $kubernetes_cache/kube-apiserver && -x $kubernetes_cache/kubectl && "$(cat "$kubernetes_cache/build" 2>/dev/null)" == "$kubernetes_build" ]]; then
  echo "setup: building kube-apiserver and kubectl $kubernetes_version from Debian's source (about 8 minutes)" >&2
  export DEBIAN_FRONTEND=noninteractive
  sources=/etc/apt/sources.list.d/vipkit-deb-src.sources
  if ! [[ -f $sources ]]; then
    printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm' 'Components: main' \
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >"$sources"
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends golang-go golang-github-modern-go-reflect2-dev rsync dpkg-dev >/dev/null
  build=$(mktemp -d /var/tmp/vipkit-kubernetes-build.XXXXXX)
  trap 'rm -rf "$build"' EXIT
  # apt downloads as the _apt user, which must be able to write there.
  chown _apt "$build"
  # bookworm's one version, 1.20.5+really1.20.2: 1.20.2 with Debian's security patches.
  (cd "$build" && apt-get source -qq kubernetes >/dev/null)
  tree=$(find "$build" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*')
  rsync -a --delete /usr/share/gocode/src/github.com/modern-go/reflect2/ "$tree/vendor/github.com/modern-go/reflect2/"
  (cd "$tree" && nice -n 19 env CGO_ENABLED=0 GOPROXY=off GO111MODULE=off GOCACHE="$build/go-cache" \
    make WHAT="cmd/kube-apiserver cmd/kubectl" >"$build/make.log" 2>&1) \
    || { tail -n 30 "$build/make.log" >&2; echo "setup: building kube-apiserver failed" >&2; exit 1; }
  mkdir -p "$kubernetes_cache"
  for binary in kube-apiserver kubectl; do
    install -m 0755 "$(find "$tree/_output" -type f -path "*/bin/$binary" | head -n 1)" "$kubernetes_cache/$binary.partial"
    mv "$kubernetes_cache/$binary.partial" "$kubernetes_cache/$binary"
  done
  echo "$kubernetes_build" >"$kubernetes_cache/build"
  rm -rf "$build"
  trap - EXIT
fi
"$kubernetes_cache/kube-apiserver" --version | grep -q "v$kubernetes_version" || { echo "setup: $kubernetes_cache/kube-apiserver does not run" >&2; exit 1; }
"$kubernetes_cache/kubectl" version --client --short 2>/dev/null | grep -q "v$kubernetes_version" || { echo "setup: $kubernetes_cache/kubectl does not run" >&2; exit 1; }
command -v etcd >/dev/null || { echo "setup: etcd (etcd-server) is missing" >&2; exit 1; }

npm ci --no-audit --no-fund
# cap builds a native addon at install time (approved in package.json allowScripts).
test -f node_modules/cap/build/Release/cap.node || { echo "setup: cap's native addon did not build (is libpcap-dev installed?)" >&2; exit 1; }
# patches/cap+0.2.1.patch gives frames the kernel's capture timestamp and lets a worker thread own a capture (see src/link/pcap-link.ts).
grep -q timestamp_us node_modules/cap/src/binding.cc && grep -q GetCurrentEventLoop node_modules/cap/src/binding.cc || { echo "setup: patches/cap+0.2.1.patch was not applied" >&2; exit 1; }
# native/ is vipkit's own addon for BGP TTLs and passwords (src/bgp/tcp-options.ts), built by postinstall.
test -f native/build/Release/tcp_options.node || { echo "setup: vipkit's native helper (native/) did not build (are build-essential and python3 installed?)" >&2; exit 1; }
npm run --silent build
