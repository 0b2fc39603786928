#!/usr/bin/env bash
# Build CAF (C++ Actor Framework) 0.17.6 -- libcaf_core, libcaf_io and
# libcaf_openssl (metron::remote_tls), static only -- with ThreadSanitizer, and
# install headers + static libraries into PREFIX. libcaf_openssl links the
# system's (uninstrumented) libssl/libcrypto; it needs libssl-dev to build.
#
# Usage: scripts/build-caf-tsan.sh PREFIX [WORKDIR]
#
#   PREFIX   install prefix; gets PREFIX/include/caf/... and PREFIX/lib/*.a
#   WORKDIR  download/build dir (default: $CAF_TSAN_WORKDIR, else
#            PREFIX/../caf-tsan-src)
#
# Environment: CXX (default g++), JOBS (default nproc).
#
# The upstream source comes from Debian's source package (the .orig tarball of
# actor-framework); a deb-src entry is added, derived from the machine's own
# apt configuration, when none is configured.
#
# Idempotent: a completed build leaves PREFIX/.metron-caf-tsan-ok holding the
# CAF version, compiler version and build flags; if it matches, exit 0 at once.
#
# Consumers must compile with -fsanitize=thread, put PREFIX/include before any
# system CAF headers (/usr/include/caf), and link
#   PREFIX/lib/libcaf_io_static.a PREFIX/lib/libcaf_core_static.a -pthread
# (io before core), and for TLS PREFIX/lib/libcaf_openssl_static.a first, plus
# -lssl -lcrypto.
set -euo pipefail

CAF_VERSION=0.17.6
SRC_PKG=actor-framework
ORIG_TARBALL="${SRC_PKG}_${CAF_VERSION}.orig.tar.gz"
STAMP_NAME=.metron-caf-tsan-ok

log() { printf '[build-caf-tsan] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $# -ge 1 && $# -le 2 && -n "$1" ]] || die "usage: $0 PREFIX [WORKDIR]"

mkdir -p "$1"
PREFIX="$(cd "$1" && pwd -P)"
WORKDIR="${2:-${CAF_TSAN_WORKDIR:-$(dirname "$PREFIX")/caf-tsan-src}}"
CXX="${CXX:-g++}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

command -v "$CXX" >/dev/null || die "C++ compiler '$CXX' not found"
CXX_VERSION="$("$CXX" --version | head -n1)"
# g++ 12 needs '-include limits' for libcaf_io (numeric_limits used without
# <limits>). -fno-omit-frame-pointer gives TSan better stacks.
TSAN_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer -include limits"

STAMP="$PREFIX/$STAMP_NAME"
STAMP_CONTENT="caf=${CAF_VERSION}
modules=core,io,openssl
cxx=${CXX_VERSION}
cxxflags=${TSAN_CXX_FLAGS}
build_type=RelWithDebInfo"

stamp_ok() {
  [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$STAMP_CONTENT" ]] &&
    [[ -f "$PREFIX/lib/libcaf_core_static.a" ]] &&
    [[ -f "$PREFIX/lib/libcaf_io_static.a" ]] &&
    [[ -f "$PREFIX/lib/libcaf_openssl_static.a" ]] &&
    [[ -f "$PREFIX/include/caf/detail/build_config.hpp" ]]
}

# 1. Idempotence: nothing to do if PREFIX already holds this build.
if stamp_ok; then
  log "up to date: $PREFIX (CAF $CAF_VERSION, $CXX_VERSION)"
  exit 0
fi

# Serialise concurrent runs on the same PREFIX, then re-check.
if command -v flock >/dev/null; then
  exec 9>"$PREFIX/.metron-caf-tsan.lock"
  flock 9
  if stamp_ok; then
    log "up to date: $PREFIX (built by a concurrent run)"
    exit 0
  fi
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    SUDO=(sudo)
  else
    log "WARNING: not root and no sudo; apt configuration changes will fail"
  fi
fi

command -v cmake >/dev/null || die "cmake not found (apt-get install cmake)"
command -v apt-get >/dev/null || die "apt-get not found; this script needs Debian's source package"
[[ -f /usr/include/openssl/ssl.h ]] || die "OpenSSL headers not found (apt-get install libssl-dev; scripts/install-deps.sh does)"

mkdir -p "$WORKDIR"
WORKDIR="$(cd "$WORKDIR" && pwd -P)"
log "prefix:  $PREFIX"
log "workdir: $WORKDIR"
log "compiler: $CXX_VERSION"

# ---------------------------------------------------------------------------
# 2. Fetch the upstream tarball from Debian.
# ---------------------------------------------------------------------------

# Expected sha256 of the orig tarball from the apt Sources index (empty if the
# index has no entry).
expected_sha256() {
  apt-cache showsrc "$SRC_PKG" 2>/dev/null | awk -v f="$ORIG_TARBALL" '
    /^Checksums-Sha256:/ { in_sha = 1; next }
    /^[^ ]/              { in_sha = 0 }
    in_sha && $3 == f    { print $1; exit }'
}

have_src_index() {
  apt-cache showsrc "$SRC_PKG" 2>/dev/null | grep -q "^Version: ${CAF_VERSION}-"
}

deb_src_configured() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    grep -qE '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    grep -qiE '^Types:(.*[[:space:]])?deb-src([[:space:]]|$)' "$f" && return 0
  done
  return 1
}

# Writes deb-src counterparts of the enabled binary sources. Only sources for
# this distribution release (suite == codename or codename-*) are copied, so
# third-party repositories without source indexes are left alone. The entries
# are derived from the existing configuration; no host name is hard-coded.
add_deb_src() {
  local codename="" tmp
  if [[ -r /etc/os-release ]]; then
    # shellcheck disable=SC1091
    codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  fi
  tmp="$(mktemp -d)"

  # deb822 files: *.sources (disabled files have other suffixes and are skipped).
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    [[ "$(basename "$f")" == metron-deb-src.sources ]] && continue
    awk -v codename="$codename" -v src="$f" '
      BEGIN { RS = ""; ORS = "" }
      {
        n = split($0, lines, "\n")
        types = ""; enabled = "yes"; suites = ""
        for (i = 1; i <= n; i++) {
          l = lines[i]
          if (l ~ /^[Tt]ypes:/)   { types = l;   sub(/^[^:]*:[ \t]*/, "", types) }
          if (l ~ /^[Ee]nabled:/) { enabled = l; sub(/^[^:]*:[ \t]*/, "", enabled) }
          if (l ~ /^[Ss]uites:/)  { suites = l;  sub(/^[^:]*:[ \t]*/, "", suites) }
        }
        if (tolower(enabled) == "no" || tolower(enabled) == "false") next
        if ((" " types " ") !~ /[ \t]deb[ \t]/) next
        if (codename != "") {
          ok = 0; m = split(suites, s, /[ \t]+/)
          for (j = 1; j <= m; j++)
            if (s[j] == codename || index(s[j], codename "-") == 1) ok = 1
          if (!ok) next
        }
        print "# derived from " src "\n"
        for (i = 1; i <= n; i++) {
          l = lines[i]
          if (l ~ /^[Tt]ypes:/) l = "Types: deb-src"
          print l "\n"
        }
        print "\n"
      }' "$f" >>"$tmp/metron-deb-src.sources"
  done

  # One-line format: /etc/apt/sources.list and sources.list.d/*.list.
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    [[ "$(basename "$f")" == metron-deb-src.list ]] && continue
    awk -v codename="$codename" '
      /^[ \t]*deb[ \t]/ {
        line = $0
        sub(/^[ \t]*deb[ \t]+/, "", line)
        rest = line
        if (rest ~ /^\[/) { sub(/^\[[^]]*\][ \t]*/, "", rest) }
        split(rest, w, /[ \t]+/)   # w[1]=uri w[2]=suite
        if (codename != "" && w[2] != codename && index(w[2], codename "-") != 1) next
        print "deb-src " line
      }' "$f" >>"$tmp/metron-deb-src.list"
  done

  local wrote=0
  if [[ -s "$tmp/metron-deb-src.sources" ]]; then
    "${SUDO[@]}" install -m 0644 "$tmp/metron-deb-src.sources" /etc/apt/sources.list.d/metron-deb-src.sources
    log "wrote /etc/apt/sources.list.d/metron-deb-src.sources"
    wrote=1
  fi
  if [[ -s "$tmp/metron-deb-src.list" ]]; then
    "${SUDO[@]}" install -m 0644 "$tmp/metron-deb-src.list" /etc/apt/sources.list.d/metron-deb-src.list
    log "wrote /etc/apt/sources.list.d/metron-deb-src.list"
    wrote=1
  fi
  rm -rf "$tmp"
  [[ $wrote -eq 1 ]] || die "no enabled Debian binary sources found to derive a deb-src entry from"
}

ensure_source_index() {
  have_src_index && return 0
  if deb_src_configured; then
    log "a deb-src entry is configured but has no index for $SRC_PKG; apt-get update"
    "${SUDO[@]}" apt-get update -qq || log "WARNING: apt-get update reported errors"
    have_src_index && return 0
  fi
  if [[ ! -f /etc/apt/sources.list.d/metron-deb-src.sources && ! -f /etc/apt/sources.list.d/metron-deb-src.list ]]; then
    log "adding a deb-src entry derived from the apt sources"
    add_deb_src
  fi
  log "apt-get update"
  # Tolerate failures of unrelated repositories; what matters is the check below.
  "${SUDO[@]}" apt-get update -qq || log "WARNING: apt-get update reported errors"
  have_src_index || die "apt has no source index for $SRC_PKG $CAF_VERSION (check deb-src entries)"
}

verify_orig() {
  local want="$1" got
  [[ -f "$WORKDIR/$ORIG_TARBALL" ]] || return 1
  [[ -n "$want" ]] || return 0
  got="$(sha256sum "$WORKDIR/$ORIG_TARBALL" | cut -d' ' -f1)"
  [[ "$got" == "$want" ]]
}

fetch_orig() {
  local want=""
  if [[ -f "$WORKDIR/$ORIG_TARBALL" ]]; then
    # Cached download: reuse it if it matches the index (or if no index yet).
    want="$(expected_sha256 || true)"
    if verify_orig "$want"; then
      log "using cached $WORKDIR/$ORIG_TARBALL"
      return 0
    fi
    log "cached tarball does not match the Sources index; re-downloading"
    rm -f "$WORKDIR/$ORIG_TARBALL"
  fi

  ensure_source_index
  want="$(expected_sha256 || true)"
  [[ -n "$want" ]] || log "WARNING: no sha256 for $ORIG_TARBALL in the Sources index"

  local rc=0
  (cd "$WORKDIR" && "${SUDO[@]}" apt-get source --download-only "$SRC_PKG") || rc=$?
  if [[ $rc -ne 0 && ! -f "$WORKDIR/$ORIG_TARBALL" ]] && ! command -v dpkg-source >/dev/null; then
    log "apt-get source failed and dpkg-dev is missing; installing dpkg-dev"
    "${SUDO[@]}" apt-get install -y -qq dpkg-dev
    rc=0
    (cd "$WORKDIR" && "${SUDO[@]}" apt-get source --download-only "$SRC_PKG") || rc=$?
  fi
  if [[ $rc -ne 0 ]]; then
    if [[ -f "$WORKDIR/$ORIG_TARBALL" ]]; then
      log "apt-get source exited $rc, but $ORIG_TARBALL is present (the Debian tarball is not needed)"
    else
      die "apt-get source failed ($rc) and $ORIG_TARBALL was not downloaded"
    fi
  fi
  verify_orig "$want" || die "$ORIG_TARBALL missing or sha256 mismatch"
  if [[ ${#SUDO[@]} -gt 0 ]]; then
    "${SUDO[@]}" chown "$(id -u):$(id -g)" "$WORKDIR"/"${SRC_PKG}"_* 2>/dev/null || true
  fi
  log "downloaded $WORKDIR/$ORIG_TARBALL"
}

fetch_orig

# ---------------------------------------------------------------------------
# 3. Configure, build and install.
# ---------------------------------------------------------------------------
SRC_DIR="$WORKDIR/actor-framework-$CAF_VERSION"
BUILD_DIR="$WORKDIR/build-tsan"
rm -rf "$SRC_DIR" "$BUILD_DIR"
mkdir -p "$SRC_DIR"
tar -xzf "$WORKDIR/$ORIG_TARBALL" -C "$SRC_DIR" --strip-components=1
[[ -f "$SRC_DIR/CMakeLists.txt" && -d "$SRC_DIR/libcaf_core" ]] || die "unexpected tarball layout"

# Remove a previous (different) installation so no stale header or lib survives.
rm -f "$STAMP"
rm -rf "$PREFIX/include/caf"
rm -f "$PREFIX"/lib/libcaf_*

log "configuring (cmake)"
cmake -S "$SRC_DIR" -B "$BUILD_DIR" \
  -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX="$PREFIX" \
  -DCMAKE_INSTALL_LIBDIR=lib \
  -DCMAKE_CXX_FLAGS="$TSAN_CXX_FLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
  -DCAF_NO_EXAMPLES=yes \
  -DCAF_NO_UNIT_TESTS=yes \
  -DCAF_NO_TOOLS=yes \
  -DCAF_NO_PYTHON=yes \
  -DCAF_NO_OPENCL=yes \
  -DCAF_BUILD_STATIC_ONLY=yes

log "building with -j$JOBS"
cmake --build "$BUILD_DIR" -j "$JOBS"
log "installing into $PREFIX"
cmake --install "$BUILD_DIR"

# ---------------------------------------------------------------------------
# 4. Check and stamp.
# ---------------------------------------------------------------------------
for f in lib/libcaf_core_static.a lib/libcaf_io_static.a lib/libcaf_openssl_static.a \
         include/caf/openssl/manager.hpp include/caf/detail/build_config.hpp; do
  [[ -f "$PREFIX/$f" ]] || die "expected $PREFIX/$f after install"
done
printf '%s\n' "$STAMP_CONTENT" >"$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"

log "installed:"
log "  include dir: $PREFIX/include"
for f in "$PREFIX"/lib/libcaf_*; do log "  library:     $f"; done
log "  link order:  [libcaf_openssl_static.a] libcaf_io_static.a libcaf_core_static.a [-lssl -lcrypto] -pthread (compile and link with -fsanitize=thread)"
log "done"
