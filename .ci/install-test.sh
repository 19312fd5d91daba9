#!/usr/bin/env bash
# Tested install of the Gridroom .deb on a clean Debian root, the way county IT installs it.
#
#   sudo .ci/install-test.sh                  # build the .deb, then test it
#   sudo DEB=dist/gridroom_0.1.0-1_amd64.deb .ci/install-test.sh   # test an existing .deb
#
# 1. build the bundle and the .deb (installer/build.sh), unless DEB= names one;
# 2. a clean Debian root: debootstrap --variant=minbase (bookworm) into a temp dir — the root is
#    cached as a tarball, and apt's downloads in a folder, under $GRIDROOM_CI_CACHE between runs;
# 3. apt-get install ./gridroom.deb inside (so Depends are resolved from Debian's archive);
# 4. gridroom --self-test inside the chroot (offscreen), gridroom-preset, gridroom doctor and a
#    diagnostics bundle; then an upgrade that keeps the IT-edited site config;
# 5. apt-get remove: the program is gone, /etc/gridroom/site.toml (with IT's edits) stays;
#    apt-get purge: /etc/gridroom is gone; a user's data folder is never touched.
# Needs root (chroot, mount), debootstrap, network to a Debian mirror. Works with CI=true, no TTY.
# Exit status: 0 all clean, 1 a check failed, 77 cannot run here (not root / no debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
ARCH=$(dpkg --print-architecture)
CACHE=${GRIDROOM_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gridroom-ci}
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
T0=$(date +%s)

say() { printf '[install-test %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
fail() { say "FAIL: $*"; exit 1; }
skip() { echo "install-test: cannot run here: $*" >&2; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, mount)"
if ! command -v debootstrap >/dev/null; then
    if command -v apt-get >/dev/null; then
        apt-get update -qq >/dev/null && apt-get install -y -qq debootstrap >/dev/null \
            || skip "debootstrap is not installed and could not be installed"
    else
        skip "debootstrap is not installed"
    fi
fi

# -- 1. the package ----------------------------------------------------------------------------
if [ -z "${DEB:-}" ]; then
    say "building the bundle and the .deb"
    # gzip: xz costs minutes on a 2-core runner; the package content is the same.
    installer/build.sh --compression "${DEB_COMPRESSION:-gzip}"
    DEB=$(ls -t dist/gridroom_*_"$ARCH".deb | head -n1)
fi
[ -f "$DEB" ] || fail "no .deb at $DEB"
DEB=$(readlink -f "$DEB")
say "testing $(basename "$DEB") ($(du -m "$DEB" | cut -f1) MB)"

# -- 2. a clean Debian root --------------------------------------------------------------------
mkdir -p "$CACHE/apt-archives/partial"
WORK=$(mktemp -d /tmp/gridroom-install-test.XXXXXX)
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

TARBALL="$CACHE/$SUITE-minbase-$ARCH.tar.gz"
if [ -f "$TARBALL" ]; then
    say "unpacking the cached $SUITE root"
    mkdir -p "$ROOT"
    tar -xzf "$TARBALL" -C "$ROOT"
else
    say "debootstrap $SUITE (minbase) from $MIRROR — first run only, then cached"
    debootstrap --variant=minbase --arch="$ARCH" "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -n 30 "$WORK/debootstrap.log"; fail "debootstrap failed"; }
    chroot "$ROOT" apt-get clean
    tar -czf "$TARBALL.part" -C "$ROOT" . && mv "$TARBALL.part" "$TARBALL"
fi
echo "deb $MIRROR $SUITE main" > "$ROOT/etc/apt/sources.list"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$ROOT/proc" && mounted+=("$ROOT/proc")
mount --bind "$CACHE/apt-archives" "$ROOT/var/cache/apt/archives" && mounted+=("$ROOT/var/cache/apt/archives")

# tree-check: ok: HOME=/root is the chroot's own root home.
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# -- 3. install with apt -----------------------------------------------------------------------
cp "$DEB" "$ROOT/tmp/gridroom.deb"
say "apt-get install ./gridroom.deb (resolving Depends from $SUITE)"
in_root apt-get update -qq >/dev/null
# No recommends: the declared Depends alone must be enough.
# tree-check: ok: /tmp/gridroom.deb is inside the chroot (copied there just above).
in_root apt-get install -y -qq --no-install-recommends /tmp/gridroom.deb >"$WORK/install.log" 2>&1 \
    || { tail -n 40 "$WORK/install.log"; fail "apt-get install failed"; }
in_root dpkg-query -W -f='${Status}\n' gridroom | grep -q "install ok installed" || fail "not installed"
for f in /opt/gridroom/gridroom /usr/bin/gridroom /usr/sbin/gridroom-preset /etc/gridroom/site.toml \
         /usr/share/applications/gridroom.desktop /usr/share/icons/hicolor/256x256/apps/gridroom.png \
         /usr/share/doc/gridroom/copyright; do
    [ -e "$ROOT$f" ] || fail "missing after install: $f"
done
say "installed: $(in_root dpkg-query -W -f='${Version}, ${Installed-Size} KiB' gridroom)"

# -- 4. it runs --------------------------------------------------------------------------------
mkdir -p "$ROOT/root/.local/share/gridroom"
echo "a user's own data" > "$ROOT/root/.local/share/gridroom/keep-me.txt"
say "gridroom --self-test inside the chroot"
start=$(date +%s%N)
in_root env QT_QPA_PLATFORM=offscreen gridroom --self-test | tee "$WORK/selftest.txt" \
    || fail "self-test failed inside the clean root"
say "self-test passed in $(( ($(date +%s%N) - start) / 1000000 )) ms (wall, first run)"

openssl req -x509 -newkey rsa:2048 -nodes -days 400 -subj "/CN=Gridroom Test County CA" \
    -addext "basicConstraints=critical,CA:TRUE" -keyout "$WORK/ca.key" -out "$ROOT/tmp/county ca.pem" \
    >/dev/null 2>&1 || fail "openssl could not make a test CA"
# tree-check: ok: the CA file is inside the chroot.
in_root gridroom-preset --server https://grid.example.gov.cn --ca "/tmp/county ca.pem" \
    --township 330825002 --require-encryption no || fail "gridroom-preset failed"
in_root gridroom doctor --offline > "$WORK/doctor.txt" || true  # no keyring in a chroot: warn only
grep -q "server_url .*https://grid.example.gov.cn .*site (locked)" "$WORK/doctor.txt" \
    || { cat "$WORK/doctor.txt"; fail "doctor does not show the preset server as locked"; }
grep -q "certificate .*1 CA certificate" "$WORK/doctor.txt" \
    || { cat "$WORK/doctor.txt"; fail "doctor does not read the preset CA"; }
# tree-check: ok: the bundle goes to the chroot's /tmp.
in_root gridroom doctor --offline --bundle /tmp/diagnostics.zip >/dev/null 2>&1 || true
[ -s "$ROOT/tmp/diagnostics.zip" ] || fail "doctor --bundle wrote nothing"
say "preset and doctor: ok"

# An upgrade keeps IT's edited site config without asking (noninteractive, conffile edited).
echo "# edited by county IT" >> "$ROOT/etc/gridroom/site.toml"
cp "$ROOT/etc/gridroom/site.toml" "$WORK/site.toml.expected"
mkdir -p "$WORK/next"
dpkg-deb -R "$DEB" "$WORK/next/pkg"
sed -i -E 's/^Version: (.*)-([0-9]+)$/Version: \1-\2+citest1/' "$WORK/next/pkg/DEBIAN/control"
dpkg-deb --root-owner-group -Znone -b "$WORK/next/pkg" "$ROOT/tmp/gridroom-next.deb" >/dev/null
say "upgrade to $(dpkg-deb -f "$ROOT/tmp/gridroom-next.deb" Version)"
# tree-check: ok: /tmp/gridroom-next.deb is inside the chroot.
in_root apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold /tmp/gridroom-next.deb >"$WORK/upgrade.log" 2>&1 \
    || { tail -n 30 "$WORK/upgrade.log"; fail "upgrade failed"; }
cmp -s "$ROOT/etc/gridroom/site.toml" "$WORK/site.toml.expected" || fail "upgrade changed site.toml"
in_root env QT_QPA_PLATFORM=offscreen gridroom --self-test >/dev/null || fail "self-test after upgrade"
say "upgrade kept the site config and still runs"

# -- 5. remove, then purge ---------------------------------------------------------------------
in_root apt-get remove -y -qq gridroom >"$WORK/remove.log" 2>&1 || { cat "$WORK/remove.log"; fail "remove failed"; }
for f in /opt/gridroom /usr/bin/gridroom /usr/sbin/gridroom-preset /usr/share/applications/gridroom.desktop; do
    [ ! -e "$ROOT$f" ] || fail "left behind after remove: $f"
done
cmp -s "$ROOT/etc/gridroom/site.toml" "$WORK/site.toml.expected" || fail "remove did not keep the edited site.toml"
[ -f "$ROOT/etc/gridroom/ca.pem" ] || fail "remove deleted the preset CA"
in_root dpkg-query -W -f='${Status}\n' gridroom | grep -q "deinstall ok config-files" \
    || fail "after remove, dpkg should keep only the config files"
say "remove: program gone, site config kept"

in_root apt-get purge -y -qq gridroom >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "purge failed"; }
[ ! -e "$ROOT/etc/gridroom" ] || { ls -la "$ROOT/etc/gridroom"; fail "purge left /etc/gridroom"; }
if in_root dpkg-query -W -f='${Status}\n' gridroom 2>/dev/null | grep -q "installed\|config-files"; then
    fail "dpkg still knows gridroom after purge"
fi
[ -f "$ROOT/root/.local/share/gridroom/keep-me.txt" ] || fail "purge touched a user's data folder"
say "purge: site config gone, user data untouched"

say "PASSED in $(( $(date +%s) - T0 )) s"
