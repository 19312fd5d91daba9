"""ELF facts a package needs: which glibc/libstdc++ a bundle asks for, and which libraries.

UOS V20 and Kylin V10 sit on glibc 2.28–2.31, so the highest ``GLIBC_x.y`` any executable or
shared library in the bundle requires decides where it runs. We read the ELF "version needs"
section (``.gnu.version_r``) directly — the same data ``objdump -T`` shows as ``(GLIBC_2.34)`` —
so the scan needs no binutils and runs wherever Python does.

    python -m installer.elf dist/bundle/gridroom          # human summary
    python -m installer.elf --json dist/bundle/gridroom   # for the build report
    python -m installer.elf --needed dist/bundle/gridroom # libraries the system must provide
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
SHT_GNU_VERNEED = 0x6FFFFFFE
SHT_DYNAMIC = 6
DT_NEEDED = 1
_VERSION = re.compile(r"^(GLIBC|GLIBCXX|CXXABI)_(\d+(?:\.\d+)*)$")


class NotElf(ValueError):
    """The file is not an ELF object this scanner understands."""


@dataclass
class Needs:
    """The versioned requirements of one ELF file: ``{"libc.so.6": {"GLIBC_2.34", …}, …}``."""

    path: Path
    by_library: dict[str, set[str]] = field(default_factory=dict)

    def versions(self, family: str) -> list[tuple[int, ...]]:
        """Every required version of ``family`` (``GLIBC``, ``GLIBCXX``, ``CXXABI``)."""
        found = []
        for names in self.by_library.values():
            for name in names:
                m = _VERSION.match(name)
                if m and m.group(1) == family:
                    found.append(_vtuple(m.group(2)))
        return found

    def highest(self, family: str) -> tuple[int, ...] | None:
        versions = self.versions(family)
        return max(versions) if versions else None


def _vtuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def vtext(version: tuple[int, ...] | None) -> str:
    """``(2, 28)`` → ``"2.28"``; None → ``"none"``."""
    return ".".join(map(str, version)) if version else "none"


class _Elf:
    """The section table of one ELF file, enough to read version needs and DT_NEEDED."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        data = self.path.read_bytes()
        if data[:4] != ELF_MAGIC or len(data) < 64:
            raise NotElf(f"{path} is not an ELF file")
        cls, order = data[4], data[5]
        if cls not in (1, 2) or order not in (1, 2):
            raise NotElf(f"{path}: unknown ELF class {cls} or byte order {order}")
        self.data = data
        self.e = "<" if order == 1 else ">"
        self.wide = cls == 2
        if self.wide:
            shoff = struct.unpack_from(self.e + "Q", data, 0x28)[0]
            shentsize, shnum = struct.unpack_from(self.e + "HH", data, 0x3A)
            sh_fmt = self.e + "IIQQQQIIQQ"
        else:
            shoff = struct.unpack_from(self.e + "I", data, 0x20)[0]
            shentsize, shnum = struct.unpack_from(self.e + "HH", data, 0x2E)
            sh_fmt = self.e + "IIIIIIIIII"
        self.sections: list[tuple[int, ...]] = []
        for i in range(shnum):
            start = shoff + i * shentsize
            if start + struct.calcsize(sh_fmt) > len(data):
                raise NotElf(f"{path}: truncated section table")
            # name, type, flags, addr, offset, size, link, info, addralign, entsize
            self.sections.append(struct.unpack_from(sh_fmt, data, start))

    def string(self, strtab_index: int, at: int) -> str:
        base = self.sections[strtab_index][4]
        end = self.data.index(b"\x00", base + at)
        return self.data[base + at : end].decode("ascii", "replace")

    def version_needs(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        e, data = self.e, self.data
        for sec in self.sections:
            if sec[1] != SHT_GNU_VERNEED:
                continue
            offset, link, count = sec[4], sec[6], sec[7]
            entry = offset
            for _ in range(count):
                _ver, cnt, file_off, aux, nxt = struct.unpack_from(e + "HHIII", data, entry)
                names = out.setdefault(self.string(link, file_off), set())
                a = entry + aux
                for _ in range(cnt):
                    _h, _f, _o, name_off, anext = struct.unpack_from(e + "IHHII", data, a)
                    names.add(self.string(link, name_off))
                    if not anext:
                        break
                    a += anext
                if not nxt:
                    break
                entry += nxt
        return out

    def needed(self) -> list[str]:
        """The DT_NEEDED sonames, in order."""
        out: list[str] = []
        fmt = self.e + ("qQ" if self.wide else "iI")
        size = struct.calcsize(fmt)
        for sec in self.sections:
            if sec[1] != SHT_DYNAMIC:
                continue
            offset, length, link = sec[4], sec[5], sec[6]
            for at in range(offset, offset + length, size):
                tag, value = struct.unpack_from(fmt, self.data, at)
                if tag == 0:  # DT_NULL ends the table
                    break
                if tag == DT_NEEDED:
                    out.append(self.string(link, value))
        return out


def read_needs(path: Path) -> Needs:
    """Parse the version-needs section of one ELF file (32- or 64-bit, either byte order)."""
    return Needs(Path(path), _Elf(path).version_needs())


def read_needed(path: Path) -> list[str]:
    """The shared libraries (sonames) one ELF file names as DT_NEEDED."""
    return _Elf(path).needed()


def elf_files(root: Path) -> Iterator[Path]:
    """Every regular ELF file under ``root`` (symlinks are followed once, by their target)."""
    seen: set[Path] = set()
    candidates: Iterable[Path] = [root] if root.is_file() else sorted(root.rglob("*"))
    for p in candidates:
        if p.is_symlink() or not p.is_file():
            continue
        real = p.resolve()
        if real in seen:
            continue
        seen.add(real)
        try:
            with p.open("rb") as fh:
                if fh.read(4) != ELF_MAGIC:
                    continue
        except OSError:
            continue
        yield p


@dataclass
class Report:
    """The highest requirements across a tree and the files that set them."""

    root: Path
    files: int
    highest: dict[str, tuple[int, ...] | None]
    worst_files: dict[str, list[str]]
    unreadable: list[str]

    def as_dict(self) -> dict[str, object]:
        return {
            "root": str(self.root),
            "elf_files": self.files,
            "highest": {k: vtext(v) for k, v in self.highest.items()},
            "worst_files": self.worst_files,
            "unreadable": self.unreadable,
        }

    def runs_on(self, glibc: tuple[int, ...]) -> bool:
        need = self.highest.get("GLIBC")
        return need is None or need <= glibc


def scan(root: Path, families: tuple[str, ...] = ("GLIBC", "GLIBCXX", "CXXABI")) -> Report:
    """Scan every ELF file under ``root`` and report the highest version of each family."""
    root = Path(root)
    highest: dict[str, tuple[int, ...] | None] = {f: None for f in families}
    worst: dict[str, list[str]] = {f: [] for f in families}
    unreadable: list[str] = []
    count = 0
    for path in elf_files(root):
        try:
            needs = read_needs(path)
        except (NotElf, struct.error, IndexError, ValueError) as exc:
            unreadable.append(f"{path}: {exc}")
            continue
        count += 1
        rel = str(path.relative_to(root)) if path != root else path.name
        for family in families:
            h = needs.highest(family)
            if h is None:
                continue
            if highest[family] is None or h > highest[family]:  # type: ignore[operator]
                highest[family] = h
                worst[family] = [rel]
            elif h == highest[family]:
                worst[family].append(rel)
    return Report(root, count, highest, worst, unreadable)


def external_needs(root: Path) -> dict[str, list[str]]:
    """Sonames some ELF file under ``root`` needs that the tree itself does not provide.

    These must come from the system: the .deb declares the packages that ship them.
    Returns ``{soname: [files that need it, relative to root]}``.
    """
    root = Path(root)
    files = list(elf_files(root))
    provided = {p.name for p in root.rglob("*") if p.is_file() or p.is_symlink()}
    wanted: dict[str, list[str]] = {}
    for path in files:
        try:
            names = read_needed(path)
        except (NotElf, struct.error, IndexError, ValueError):
            continue
        for soname in names:
            if soname not in provided:
                wanted.setdefault(soname, []).append(str(path.relative_to(root)))
    return dict(sorted(wanted.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m installer.elf", description="Highest glibc/libstdc++ symbol versions."
    )
    parser.add_argument("root", type=Path, help="a bundle folder or one ELF file")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--needed", action="store_true", help="list the libraries the system must provide"
    )
    parser.add_argument(
        "--max", metavar="X.Y", help="exit 1 when the bundle needs a newer glibc than X.Y"
    )
    args = parser.parse_args(argv)
    if not args.root.exists():
        print(f"{args.root}: no such file or folder", file=sys.stderr)
        return 2
    if args.needed:
        for soname, users in external_needs(args.root).items():
            print(f"{soname:<32} {users[0]}" + (f" (+{len(users) - 1})" if len(users) > 1 else ""))
        return 0
    report = scan(args.root)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(f"{report.files} ELF files under {report.root}")
        for family, version in report.highest.items():
            files = report.worst_files[family]
            more = f" (+{len(files) - 3} more)" if len(files) > 3 else ""
            print(f"  {family:<8} {vtext(version):<8} {', '.join(files[:3])}{more}")
        for line in report.unreadable:
            print(f"  unreadable: {line}")
    if args.max and not report.runs_on(_vtuple(args.max)):
        print(
            f"needs glibc {vtext(report.highest['GLIBC'])}, newer than the allowed {args.max}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
