"""What the Linux bundle takes from the system, and what it carries itself.

The bundle carries Python, Qt (from the PySide6 wheels, with their own ICU), and the libraries
whose sonames differ between Debian releases (OpenSSL, libffi) or that old systems lack
(xcb-util 0.4). Everything else — glibc, libstdc++, GL, X11/xcb, fontconfig, freetype, D-Bus,
GLib, SQLite for Python's own sqlite3 module — comes from the distribution through
the .deb's ``Depends``, so a township PC uses its own GL driver and font configuration and the
bundle does not drag in a newer glibc than the distribution has.

:data:`SONAME_PACKAGES` maps every soname the bundle may ask the system for to the Debian
dependency that provides it (alternatives cover buster-based UOS/Kylin, bookworm and trixie
names). The build fails when a bundled file needs a soname that is neither in the bundle nor in
this table: that is a missing ``Depends`` caught at build time instead of on 300 PCs.
"""

from __future__ import annotations

import re

#: Libraries from the build system that stay in the bundle: Python's own runtime, and libraries
#: whose soname changes between the releases we target (libssl1.1 vs libssl3, libffi7 vs 8).
#: Everything else that is not in a wheel comes from the distribution (SONAME_PACKAGES).
BUNDLE_KEEP = re.compile(
    r"^(libpython3[.\d]*\.so|libffi\.so|libssl\.so|libcrypto\.so|libmpdec\.so"
    r"|libsqlcipher\.so"
    # Qt's xcb plugin needs xcb-util 0.4 (soname .1); Debian-10-based UOS ships only 0.3.8
    # (soname .0), so the bundle carries this small library (it needs only libxcb).
    r"|libxcb-util\.so\.1)"
)

#: soname → Debian dependency (with alternatives) that provides it.
SONAME_PACKAGES: dict[str, str] = {
    # C runtime: the version is added from the measured GLIBC requirement.
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
    "libutil.so.1": "libc6",
    "libresolv.so.2": "libc6",
    "ld-linux-x86-64.so.2": "libc6",
    "ld-linux-aarch64.so.1": "libc6",
    "libgcc_s.so.1": "libgcc-s1 | libgcc1",
    "libstdc++.so.6": "libstdc++6",
    # compression and XML, Priority: required/important everywhere
    "libz.so.1": "zlib1g",
    "libbz2.so.1.0": "libbz2-1.0",
    "liblzma.so.5": "liblzma5",
    "libexpat.so.1": "libexpat1",
    "libuuid.so.1": "libuuid1",
    # Python's own sqlite3 module (sqlite-utils imports it; the store itself runs on the SQLite
    # inside sqlcipher3). Debian 11's build asks for glibc 2.29, the target's own is fine.
    "libsqlite3.so.0": "libsqlite3-0",
    "libzstd.so.1": "libzstd1",  # QtCore
    # graphics
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0 | libglib2.0-0t64",
    "libgthread-2.0.so.0": "libglib2.0-0 | libglib2.0-0t64",
    "libgobject-2.0.so.0": "libglib2.0-0 | libglib2.0-0t64",
    "libgio-2.0.so.0": "libglib2.0-0 | libglib2.0-0t64",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libXext.so.6": "libxext6",
    "libXrender.so.1": "libxrender1",
    "libXi.so.6": "libxi6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libdrm.so.2": "libdrm2",
    # QtNetwork (only when the app imports it)
    "libgssapi_krb5.so.2": "libgssapi-krb5-2",
    "libbrotlicommon.so.1": "libbrotli1",
    "libbrotlidec.so.1": "libbrotli1",
    # printing through CUPS (QtPrintSupport's plugin)
    "libcups.so.2": "libcups2 | libcups2t64",
}

#: Needed although no file names it: Qt loads these with dlopen(), or needs their data files.
ALWAYS: tuple[str, ...] = (
    "libdbus-1-3",  # QtDBus dlopen()s libdbus-1 (brief, tray, portal)
    "libxcb-cursor0",  # the xcb platform plugin refuses to start without it since Qt 6.5
)

#: Debian package → minimum version to state, for the C++ runtime measured in the bundle.
GLIBCXX_TO_GCC: dict[tuple[int, ...], str] = {
    (3, 4, 21): "5",
    (3, 4, 22): "6",
    (3, 4, 23): "7",
    (3, 4, 24): "7",
    (3, 4, 25): "8",
    (3, 4, 26): "9",
    (3, 4, 28): "10",
    (3, 4, 29): "11",
    (3, 4, 30): "12",
    (3, 4, 31): "13",
    (3, 4, 32): "14",
}


def is_system_lib(soname: str) -> bool:
    """True if the .deb's Depends provide ``soname`` (so the bundle must not carry it)."""
    return soname in SONAME_PACKAGES


def depends_for(
    sonames: set[str] | list[str],
    *,
    glibc: tuple[int, ...] | None,
    glibcxx: tuple[int, ...] | None,
) -> tuple[list[str], list[str]]:
    """The Depends entries for the external sonames, and the sonames nothing provides."""
    missing = sorted(s for s in sonames if s not in SONAME_PACKAGES)
    wanted: list[str] = []
    for soname in sorted(sonames):
        dep = SONAME_PACKAGES.get(soname)
        if dep and dep not in wanted:
            wanted.append(dep)
    for dep in ALWAYS:
        if dep not in wanted:
            wanted.append(dep)
    out = []
    for dep in sorted(wanted):
        if dep == "libc6" and glibc:
            dep = f"libc6 (>= {'.'.join(map(str, glibc))})"
        elif dep == "libstdc++6" and glibcxx:
            gcc = next((v for k, v in sorted(GLIBCXX_TO_GCC.items()) if k >= glibcxx), None)
            if gcc:
                dep = f"libstdc++6 (>= {gcc})"
        out.append(dep)
    return out, missing
