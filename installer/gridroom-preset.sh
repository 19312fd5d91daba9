#!/bin/sh
# gridroom-preset: write Gridroom's site config (/etc/gridroom/site.toml) for county IT.
# Installed as /usr/sbin/gridroom-preset by the .deb. The same options as the Windows
# installer's /SERVER= /CA= /TOWNSHIP= /ENCRYPT= /LOCK=, so one rollout sheet serves both.
#
#   gridroom-preset --server https://grid.example.gov.cn --ca /root/county-ca.pem \
#                   --township 330825002 [--require-encryption yes] [--no-lock]
#
# The file is rewritten whole from the options given (the previous one is kept as
# site.toml.bak); the CA is copied to /etc/gridroom/ca.pem so the original may go away.
# Exit status: 0 written, 2 bad option or value (nothing changed), 1 could not write.
set -eu

SITE=${GRIDROOM_SITE_CONFIG:-/etc/gridroom/site.toml}
SERVER="" CA="" TOWNSHIP="" ENCRYPT="" DATA_DIR="" LOCK=1 DRY=0

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    echo "Options: --server URL --ca FILE --township CODE --require-encryption yes|no"
    echo "         --data-dir DIR --no-lock --site PATH --dry-run --help"
}
fail() { echo "gridroom-preset: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    opt=$1
    case "$opt" in
        --*=*) val=${opt#*=}; opt=${opt%%=*}; shift; set -- "$opt" "$val" "$@" ;;
    esac
    case "$1" in
        --server) [ $# -ge 2 ] || fail "--server needs a URL"; SERVER=$2; shift 2 ;;
        --ca) [ $# -ge 2 ] || fail "--ca needs a file"; CA=$2; shift 2 ;;
        --township) [ $# -ge 2 ] || fail "--township needs a code"; TOWNSHIP=$2; shift 2 ;;
        --require-encryption) [ $# -ge 2 ] || fail "--require-encryption needs yes or no"
            ENCRYPT=$2; shift 2 ;;
        --data-dir) [ $# -ge 2 ] || fail "--data-dir needs a folder"; DATA_DIR=$2; shift 2 ;;
        --site) [ $# -ge 2 ] || fail "--site needs a path"; SITE=$2; shift 2 ;;
        --no-lock) LOCK=0; shift ;;
        --dry-run) DRY=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) fail "unknown option $1 (see --help)" ;;
    esac
done

[ -n "$SERVER$CA$TOWNSHIP$ENCRYPT$DATA_DIR" ] || fail "nothing to preset (see --help)"

NL='
'
TAB=$(printf '\t')
CR=$(printf '\r')
# Refuse control characters outright: they cannot be in a path, URL or code anyway.
plain() {
    case "$1" in
        *"$NL"*|*"$TAB"*|*"$CR"*) fail "control character in value: $1" ;;
    esac
}
for value in "$SERVER" "$CA" "$TOWNSHIP" "$DATA_DIR"; do plain "$value"; done

# TOML basic strings: escape backslash and quote.
toml() {
    printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

if [ -n "$SERVER" ]; then
    case "$SERVER" in
        https://?*) ;;
        http://?*) echo "gridroom-preset: warning: $SERVER is not HTTPS; tokens would travel in clear" >&2 ;;
        *) fail "--server must be an https:// URL, not '$SERVER'" ;;
    esac
    case "$SERVER" in *" "*|*'"'*) fail "--server contains a space or a quote: '$SERVER'" ;; esac
    SERVER=${SERVER%/}
fi
if [ -n "$TOWNSHIP" ]; then
    case "$TOWNSHIP" in
        *[!0-9]*) fail "--township must be digits (a 9-digit township code), not '$TOWNSHIP'" ;;
    esac
    [ ${#TOWNSHIP} -eq 9 ] || fail "--township must be a 9-digit township code, not '$TOWNSHIP'"
fi
case "$ENCRYPT" in
    ""|yes|no|true|false|1|0) ;;
    *) fail "--require-encryption must be yes or no, not '$ENCRYPT'" ;;
esac
case "$ENCRYPT" in yes|true|1) ENCRYPT=true ;; no|false|0) ENCRYPT=false ;; esac
if [ -n "$CA" ]; then
    [ -r "$CA" ] || fail "CA file '$CA' does not exist or cannot be read"
    grep -q -- "-----BEGIN CERTIFICATE-----" "$CA" || fail "'$CA' is not a PEM certificate"
fi

dir=$(dirname "$SITE")
ca_dest="$dir/ca.pem"
locked=""
add_lock() { locked="${locked:+$locked, }\"$1\""; }
{
    echo "# Gridroom site configuration, written by gridroom-preset on $(date -u +%Y-%m-%dT%H:%M:%SZ)."
    echo "# Every key is documented in docs/deploy.md; 'gridroom doctor' shows the effective values."
    echo
    echo "[server]"
    if [ -n "$SERVER" ]; then printf '%s\n' "server_url = $(toml "$SERVER")"; add_lock server_url; fi
    if [ -n "$CA" ]; then printf '%s\n' "ca_file = $(toml "$ca_dest")"; add_lock ca_file; fi
    echo
    echo "[device]"
    if [ -n "$TOWNSHIP" ]; then printf '%s\n' "township = $(toml "$TOWNSHIP")"; add_lock township; fi
    if [ -n "$DATA_DIR" ]; then printf '%s\n' "data_dir = $(toml "$DATA_DIR")"; fi
    echo
    echo "[policy]"
    if [ -n "$ENCRYPT" ]; then echo "require_encryption = $ENCRYPT"; add_lock require_encryption; fi
    if [ "$LOCK" = 1 ] && [ -n "$locked" ]; then echo "locked = [$locked]"; fi
} > "${TMPDIR:-/tmp}/gridroom-site.$$" || { echo "gridroom-preset: cannot write a temporary file" >&2; exit 1; }
tmp="${TMPDIR:-/tmp}/gridroom-site.$$"
trap 'rm -f "$tmp"' EXIT

if [ "$DRY" = 1 ]; then
    cat "$tmp"
    exit 0
fi

mkdir -p "$dir" || exit 1
if [ -n "$CA" ]; then
    # Copy beside the config (readable by every user, as a CA certificate is public).
    cp "$CA" "$ca_dest.new" && chmod 0644 "$ca_dest.new" && mv -f "$ca_dest.new" "$ca_dest" || exit 1
fi
[ -f "$SITE" ] && cp -p "$SITE" "$SITE.bak"
cp "$tmp" "$SITE.new" && chmod 0644 "$SITE.new" && mv -f "$SITE.new" "$SITE" || exit 1
echo "gridroom-preset: wrote $SITE"
