"""Packaging for county IT: the PyInstaller bundle, the .deb, the Windows installer.

``python -m installer.build`` (or ``installer/build.sh``) is the one command; ``oldglibc.sh``
runs it inside Debian 11 for UOS/Kylin. The pieces are small modules: :mod:`installer.deb` (the
Debian package), :mod:`installer.deps` (what the bundle carries and what the .deb's Depends
provide), :mod:`installer.elf` (which glibc a bundle needs, which libraries it links),
:mod:`installer.icon` (the app icon, drawn, not downloaded), :mod:`installer.notices`
(third-party licences), :mod:`installer.docs` (the settings table of docs/deploy.md) and
:mod:`installer.startup` (time to a usable window); the NSIS script is ``installer/nsis``.
Nothing here is imported by the app itself.
"""
