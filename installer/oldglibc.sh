#!/usr/bin/env bash
# Build the Linux bundle and .deb for UOS V20 / Kylin V10 (glibc 2.28+) inside a Debian 11 root.
#
#   sudo installer/oldglibc.sh            # → dist/oldglibc/gridroom_<v>_<arch>.deb
#
# Why: a bundle needs the newest glibc any of its ELF files asks for. PySide6 6.9.x wheels ask
# for 2.28, but a Python built on a new distribution asks for its build machine's glibc (2.35 on
# Debian 12). So the interpreter is built here, in a Debian 11 (bullseye, glibc 2.31) root, from
# Debian's own security-patched CPython 3.11 source package, with two adjustments that bring
# what it asks for down to 2.28:
#   * exp/log/pow/exp2/log2 are bound to their original symbol versions (GLIBC_2.2.5 on amd64,
#     2.17 on arm64) instead of 2.29's faster rewrites — same results, older entry points;
#   * sem_clockwait (2.30) is not used; CPython falls back to sem_timedwait.
# The bundle is then frozen in that root, its glibc need is measured (the build fails above
# --max-glibc, 2.28 by default), and its own --self-test runs there against Debian 11's Qt
# libraries before the .deb is made.
#
# The prepared root (Debian 11 + build tools + the built Python) is cached as a tarball, pip's
# downloads in a folder, under $GRIDROOM_CI_CACHE (default ~/.cache/gridroom-ci): first run
# ≈ 10 minutes, later runs ≈ the bundle build alone.
# Needs root (debootstrap, chroot, mount) and network to a Debian mirror and to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

SUITE=bullseye
MIRROR=${MIRROR:-http://deb.debian.org/debian}
ARCH=$(dpkg --print-architecture)
MAX_GLIBC=${MAX_GLIBC:-2.28}
PREFIX=/opt/python3.11
CACHE=${GRIDROOM_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gridroom-ci}
OUT=${OUT:-$REPO/dist/oldglibc}
# Bump when the recipe below changes, so a stale cached root is not reused.
RECIPE=1
TARBALL="$CACHE/$SUITE-buildroot-py311-r$RECIPE-$ARCH.tar.gz"
T0=$(date +%s)

say() { printf '[oldglibc %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
die() { say "FAILED: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mount)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"

case "$ARCH" in
    amd64) BASE_VERSION=GLIBC_2.2.5 ;;
    arm64) BASE_VERSION=GLIBC_2.17 ;;
    *) die "no baseline glibc symbol version known for $ARCH" ;;
esac

WORK=$(mktemp -d /tmp/gridroom-oldglibc.XXXXXX)
ROOT="$WORK/root"
mounted=()
cleanup() {
    local m still=0
    for (( i=${#mounted[@]}-1; i>=0; i-- )); do
        m=${mounted[$i]}
        umount -l "$m" 2>/dev/null || true
        # Never delete through a mount that is still there (the source tree, the caches).
        if mountpoint -q "$m" 2>/dev/null; then still=1; echo "still mounted: $m" >&2; fi
    done
    if [ "$still" = 0 ]; then rm -rf "$WORK"; else echo "left $WORK in place" >&2; fi
}
trap cleanup EXIT
# tree-check: ok: HOME=/root is the chroot's own root home.
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
mount_basics() {
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
    mount -t proc proc "$ROOT/proc" && mounted+=("$ROOT/proc")
}

# Qt's runtime libraries (the .deb's Depends on Debian 11), so the bundle's self-test runs here.
QT_RUNTIME="libegl1 libgl1 libfontconfig1 libfreetype6 libxkbcommon0 libxkbcommon-x11-0
  libdbus-1-3 libglib2.0-0 libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4
  libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-render0 libxcb-shape0
  libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libzstd1"
BUILD_DEPS="build-essential dpkg-dev binutils ca-certificates libssl-dev libffi-dev zlib1g-dev
  libbz2-dev liblzma-dev libsqlite3-dev uuid-dev xz-utils pkg-config"

mkdir -p "$CACHE/pip" "$OUT"
if [ -f "$TARBALL" ]; then
    say "unpacking the cached build root"
    mkdir -p "$ROOT" && tar -xzf "$TARBALL" -C "$ROOT"
    mount_basics
else
    say "debootstrap $SUITE (first run only, then cached)"
    debootstrap --variant=minbase --arch="$ARCH" "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -n 20 "$WORK/debootstrap.log"; die "debootstrap failed"; }
    mount_basics
    cat > "$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb ${MIRROR%/debian}/debian-security $SUITE-security main
deb-src $MIRROR bookworm main
EOF
    say "build tools and Qt runtime libraries"
    in_root apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    in_root apt-get install -y -qq --no-install-recommends $BUILD_DEPS $QT_RUNTIME >"$WORK/apt.log" 2>&1 \
        || { tail -n 20 "$WORK/apt.log"; die "apt-get install failed"; }
    say "CPython 3.11 from Debian's source package (bookworm, security-patched)"
    mkdir -p "$ROOT/usr/src/py"
    in_root sh -c 'cd /usr/src/py && apt-get source -qq python3.11' >"$WORK/source.log" 2>&1 \
        || { tail -n 20 "$WORK/source.log"; die "apt-get source python3.11 failed"; }
    cat > "$ROOT/usr/src/py/glibc-compat.h" <<EOF
/* Bind libm's functions to their original versions, not glibc 2.29's rewrites (see oldglibc.sh). */
__asm__(".symver exp,exp@$BASE_VERSION");
__asm__(".symver log,log@$BASE_VERSION");
__asm__(".symver pow,pow@$BASE_VERSION");
__asm__(".symver exp2,exp2@$BASE_VERSION");
__asm__(".symver log2,log2@$BASE_VERSION");
EOF
    cat > "$ROOT/usr/src/py/build.sh" <<EOF
set -e
cd /usr/src/py/python3.11-*/
# A Debian CVE patch makes pyexpat use an internal header; Debian builds it into the core, we
# build it as a module, which then must say so (as upstream modules using internal API do).
grep -q Py_BUILD_CORE_MODULE Modules/pyexpat.c || \
    sed -i '1i #ifndef Py_BUILD_CORE_BUILTIN\n#  define Py_BUILD_CORE_MODULE 1\n#endif' Modules/pyexpat.c
./configure -q --prefix=$PREFIX --enable-shared --with-ensurepip=no \
    --without-static-libpython ac_cv_func_sem_clockwait=no \
    CFLAGS_NODIST="-include /usr/src/py/glibc-compat.h" LDFLAGS="-Wl,-rpath,$PREFIX/lib"
make -j"\$(nproc)" -s
make -s install
$PREFIX/bin/python3.11 -c "import ssl, ctypes, sqlite3, lzma, bz2, zlib, uuid, pyexpat; print('python ok:', ssl.OPENSSL_VERSION)"
# Debian's ensurepip refuses the system interpreter but works inside a venv, which is all the
# build uses (--with-ensurepip=no above: installing pip into $PREFIX is what it refuses).
# tree-check: ok: /tmp/venv-check is inside the chroot (this script runs there).
$PREFIX/bin/python3.11 -m venv /tmp/venv-check && /tmp/venv-check/bin/python -m pip --version
rm -rf /tmp/venv-check  # tree-check: ok (inside the chroot)
EOF
    say "compiling CPython (several minutes)"
    in_root sh /usr/src/py/build.sh >"$WORK/python-build.log" 2>&1 \
        || { tail -n 40 "$WORK/python-build.log"; die "building CPython failed"; }
    tail -n 1 "$WORK/python-build.log"
    rm -rf "$ROOT/usr/src/py"/python3.11-*/
    in_root apt-get clean
    say "caching the build root"
    umount -l "$ROOT/proc" && mounted=()
    tar -czf "$TARBALL.part" -C "$ROOT" . && mv "$TARBALL.part" "$TARBALL"
    mount_basics
fi

# The source tree, read-only: the build writes only under /build inside the root.
mkdir -p "$ROOT/src" "$ROOT/build" "$ROOT/root/.cache/pip"
mount --bind "$REPO" "$ROOT/src" && mounted+=("$ROOT/src")
mount -o remount,bind,ro "$ROOT/src"
mount --bind "$CACHE/pip" "$ROOT/root/.cache/pip" && mounted+=("$ROOT/root/.cache/pip")

# pip inside the root trusts what this machine trusts (a county network's TLS-inspecting proxy
# has its own CA) and uses the same proxy and index settings.
PASS_ENV=()
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/host-ca-certificates.crt"
    PASS_ENV+=(PIP_CERT=/etc/ssl/host-ca-certificates.crt)
fi
for var in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy PIP_INDEX_URL \
           PIP_DEFAULT_TIMEOUT; do
    [ -n "${!var:-}" ] && PASS_ENV+=("$var=${!var}")
done

say "building the bundle and the .deb inside $SUITE"
in_root env "${PASS_ENV[@]}" sh -c "cd /src && $PREFIX/bin/python3.11 -m installer.build --python $PREFIX/bin/python3.11 \
    --venv /build/venv --work /build/work --out /build/out --max-glibc $MAX_GLIBC \
    --compression ${DEB_COMPRESSION:-xz}" \
    || die "the bundle build failed inside $SUITE"
cp "$ROOT"/build/out/*.deb "$OUT/"
cp "$ROOT/build/out/build-report.json" "$OUT/build-report.json"
say "done: $(ls "$OUT"/*.deb) (glibc >= $(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['elf']['highest']['GLIBC'])" "$OUT/build-report.json"))"
