"""The tree check: what makes a test pass only on the machine that wrote it.

Run by ``./dev check`` (and so by ``./dev test`` and CI)::

    python tools/check_tree.py [--root DIR]

It fails (exit 1, one ``path:line: why`` per finding) on a source or test file that

* names an absolute path in a temporary or personal folder outside the repository — ``/tmp/...``,
  ``/home/...``, ``/root/...``, ``/work/...``, ``/mnt/...`` and the like, or the checkout's own
  absolute location — which exists only where someone left it. System locations (``/etc/gridroom``,
  ``/usr/bin``, ``/opt/gridroom``, ``/dev/null``, ``/proc``) are fine: every machine has them or the
  code makes them. ``mktemp`` templates (``/tmp/name.XXXXXX``) and ``${TMPDIR:-/tmp}`` are fine
  too: they make a new folder, they do not find an old one;
* puts any literal absolute path on ``sys.path`` (``sys.path.insert``/``append``/``extend``,
  ``site.addsitedir``) — code comes from the repository or from an installed dependency, never from
  a folder on one machine;
* imports a module that is neither in the repository, nor the standard library
  (:data:`sys.stdlib_module_names`), nor provided by a dependency declared in ``pyproject.toml``
  (``dependencies`` and every ``optional-dependencies`` group; distribution names are mapped to
  the import names they install by :func:`importlib.metadata.packages_distributions`). An import
  inside ``try: ... except ImportError`` (or ``pytest.importorskip``) is optional by construction
  and is not checked.

Files checked: every tracked or new (not ignored) file ending in ``.py`` or ``.sh``, the ``dev``
script, everything in ``.ci/``, and any other file whose first line is a ``sh``/``bash``/``python``
shebang. Python is parsed (comments and docstrings do not count); shell is read line by line with
comments stripped.

A line that must name such a path on purpose (a path inside a chroot, say) says so in a comment
containing ``tree-check: ok`` and the reason.
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: First components of absolute paths that belong to one machine or one run: temporary folders,
#: home folders, mounts and work areas. Everything else (``/etc``, ``/usr``, ``/opt``, ``/dev``,
#: ``/proc``, ``/sys``, ``/var/lib``, ...) is a system location a program may rightly name.
PERSONAL_PREFIXES = (
    "tmp",
    "var/tmp",
    "dev/shm",
    "run/user",
    "home",
    "root",
    "Users",
    "work",
    "workspace",
    "scratch",
    "mnt",
    "media",
    "private",
    "Volumes",
    "builds",
)
_PREFIX_RE = "|".join(re.escape(p) for p in PERSONAL_PREFIXES)
#: A personal absolute path, starting a string or after a separator (space, quote, ``=``, ``:``).
PERSONAL_PATH = re.compile(
    rf"(?:^|(?<=[\s=:'\"(,\[]))/(?:{_PREFIX_RE})(?=/|$|[\s'\":,;)\]|&<>`])[^\s'\":,;)\]|&<>`]*"
)
#: In Python: any absolute path string (for what goes on ``sys.path``).
ANY_ABSOLUTE = re.compile(r"^\s*(?:/|~|[A-Za-z]:[\\/])")
#: A marker that says the line names such a path on purpose.
OK_MARKER = "tree-check: ok"
#: mktemp templates make a new folder; ${TMPDIR:-/tmp} is the standard way to honour TMPDIR.
TMPDIR_DEFAULT = re.compile(r"\$\{TMPDIR:-/tmp\}")
SHELL_NAMES = ("sh", "bash", "dash", "zsh")
SKIP_DIRS = {".git", ".venv", "venv", "build", "dist", "__pycache__", "node_modules"}


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


# -- which files --------------------------------------------------------------------------------


def candidate_files(root: Path) -> list[Path]:
    """Tracked and new (not ignored) files, or every file under ``root`` outside a git work tree."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"],
            capture_output=True,
            check=True,
        ).stdout.decode()
        inside = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout.strip()
        if Path(inside).resolve() != root.resolve():
            raise subprocess.CalledProcessError(1, "git")  # root is a folder inside another repo
        names = sorted({n for n in out.split("\0") if n})
        return [root / n for n in names if (root / n).is_file()]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root)
            if any(part in SKIP_DIRS for part in rel.parts) or not p.is_file():
                continue
            files.append(p)
        return files


def kind_of(root: Path, path: Path) -> str | None:
    """``"python"``, ``"shell"`` or None (not checked)."""
    rel = path.relative_to(root).as_posix()
    if path.suffix == ".py":
        return "python"
    if path.suffix == ".sh" or rel == "dev":
        return "shell"
    try:
        with path.open("rb") as fh:
            first = fh.readline(200).decode("utf-8", "replace")
    except OSError:
        return None
    if first.startswith("#!"):
        words = first[2:].replace("/", " ").split()
        if any(w.startswith("python") for w in words):
            return "python"
        if any(w in SHELL_NAMES for w in words):
            return "shell"
    if rel.startswith(".ci/"):
        return "shell"
    return None


# -- absolute paths -----------------------------------------------------------------------------


def personal_paths(text: str, root: Path) -> list[str]:
    """The personal absolute paths ``text`` names (the checkout's own location included);
    ``root`` is resolved already."""
    if "/" not in text:
        return []
    text = TMPDIR_DEFAULT.sub("", text)
    found = [m.group(0) for m in PERSONAL_PATH.finditer(text) if "XXX" not in m.group(0)]
    return found + names_checkout(text, root)


def names_checkout(text: str, root: Path) -> list[str]:
    """The checkout's own absolute location, if ``text`` names it as a path (``/src`` is not
    named by ``/usr/src``). A checkout one level below ``/`` (``/src``, ``/app``) has a name too
    common to tell from a path inside a container or chroot, and is not looked for."""
    here = str(root)
    if len(root.parts) < 3 or here not in text:
        return []
    pattern = rf"(?<![\w./-]){re.escape(here)}(?![\w.-])"
    return [here] if re.search(pattern, text) else []


def _docstring_nodes(nodes: list[ast.AST]) -> set[int]:
    """ids of string constants that stand alone as expressions (docstrings, notes)."""
    ids = set()
    for node in nodes:
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            ids.add(id(node.value))
    return ids


def _string_parts(node: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, text) of string literals, f-strings by their literal parts."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.lineno, node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
            for v in node.values
        )
        yield node.lineno, text


def _is_sys_path_call(node: ast.Call) -> bool:
    f = node.func
    if not isinstance(f, ast.Attribute):
        return False
    if f.attr == "addsitedir":
        return True
    return (
        f.attr in ("insert", "append", "extend")
        and isinstance(f.value, ast.Attribute)
        and f.value.attr == "path"
        and isinstance(f.value.value, ast.Name)
        and f.value.value.id == "sys"
    )


def _literal_strings(node: ast.AST) -> Iterator[tuple[int, str]]:
    for sub in ast.walk(node):
        yield from _string_parts(sub)


def python_paths(nodes: list[ast.AST], root: Path) -> Iterator[tuple[int, str]]:
    """Findings about paths among ``nodes`` (every node of one module)."""
    docstrings = _docstring_nodes(nodes)
    seen: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Call) and _is_sys_path_call(node):
            for arg in node.args:
                for line, text in _literal_strings(arg):
                    if ANY_ABSOLUTE.match(text):
                        yield line, (
                            f"puts the absolute path {text!r} on sys.path: import code from the "
                            "repository or a declared dependency instead"
                        )
        if isinstance(node, ast.JoinedStr):
            for v in node.values:
                seen.add(id(v))
        if id(node) in docstrings or id(node) in seen:
            continue
        for line, text in _string_parts(node):
            for path in personal_paths(text, root):
                yield line, (
                    f"names {path!r}, a folder outside the repository that exists only on some "
                    "machines: make it under a temporary folder (tmp_path, tempfile, mktemp) or "
                    "relative to the repository"
                )


def shell_code(line: str) -> str:
    """A shell line without its comment (a ``#`` at the start of a word, outside quotes)."""
    out, quote = [], ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            break
        out.append(ch)
    return "".join(out)


#: What separates a path from what comes before it inside one shell word (HOME=/root,
#: PATH=a:/b, >/tmp/log, cmd|/x, $(cmd /x)).
SHELL_WORD_SEPARATORS = re.compile(r"[=:<>|;&()`]+")
PERSONAL_WORD = re.compile(rf"^/(?:{_PREFIX_RE})(?:/|$)")


def shell_paths(code: str, root: Path) -> list[str]:
    """Personal absolute paths in one line of shell (comment stripped). Words are split as the
    shell would (quotes removed), so ``"$ROOT"/tmp/x`` — a folder under $ROOT — is not one."""
    try:
        words = shlex.split(TMPDIR_DEFAULT.sub("", code), comments=False, posix=True)
    except ValueError:  # an unbalanced quote: a line of a multi-line string
        return personal_paths(code, root)
    found = []
    for word in words:
        for part in SHELL_WORD_SEPARATORS.split(word):
            if PERSONAL_WORD.match(part) and "XXX" not in part:
                found.append(part)
    return found + names_checkout(code, root)


def shell_excused(lines: list[str]) -> set[int]:
    """Line numbers a ``tree-check: ok`` marker covers: its own line; from a comment line, the
    command that follows it (continuation lines included)."""
    excused: set[int] = set()
    for i, line in enumerate(lines):
        if OK_MARKER not in line:
            continue
        excused.add(i + 1)
        if line.lstrip().startswith("#"):
            j = i + 1
            while j < len(lines):
                excused.add(j + 1)
                if not lines[j].rstrip().endswith("\\"):
                    break
                j += 1
    return excused


def shell_findings(rel: str, text: str, root: Path) -> Iterator[Finding]:
    lines = text.splitlines()
    excused = shell_excused(lines)
    for n, line in enumerate(lines, 1):
        if n in excused:
            continue
        for path in shell_paths(shell_code(line), root):
            yield Finding(
                rel,
                n,
                f"names {path!r}, a folder outside the repository that exists only on some "
                'machines: use mktemp, "${TMPDIR:-/tmp}" or a path relative to the repository',
            )


# -- imports ------------------------------------------------------------------------------------


def _norm(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


def declared_distributions(pyproject: Path) -> set[str]:
    """Normalised names of every distribution ``pyproject.toml`` declares (all extras)."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data.get("project", {})
    me = _norm(project.get("name", ""))
    groups: dict[str, list[str]] = project.get("optional-dependencies", {})
    dists: set[str] = set()
    for req in [*project.get("dependencies", []), *(r for g in groups.values() for r in g)]:
        m = _REQ_NAME.match(req)
        if m and _norm(m.group(1)) != me:
            dists.add(_norm(m.group(1)))
    return dists


def import_names_of(dists: set[str]) -> dict[str, str]:
    """Import name → the declared distribution that provides it."""
    provided: dict[str, str] = {}
    for module, owners in importlib.metadata.packages_distributions().items():
        for owner in owners:
            if _norm(owner) in dists:
                provided.setdefault(module, _norm(owner))
    for dist in dists:  # declared but not installed here: the usual spelling
        provided.setdefault(dist.replace("-", "_"), dist)
    return provided


def repo_modules(root: Path, pyproject: Path) -> set[str]:
    """Top-level names the repository itself provides."""
    names = {p.stem for p in root.glob("*.py")}
    names |= {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    names |= {p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    if pyproject.is_file():
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        package_dir = data.get("tool", {}).get("setuptools", {}).get("package-dir", {})
        names |= {k.split(".")[0] for k in package_dir if k}
    return names


def _catches_import_error(handlers: Iterable[ast.ExceptHandler]) -> bool:
    for h in handlers:
        if h.type is None:
            return True
        types = h.type.elts if isinstance(h.type, ast.Tuple) else [h.type]
        for t in types:
            name = t.id if isinstance(t, ast.Name) else getattr(t, "attr", "")
            if name in ("ImportError", "ModuleNotFoundError", "Exception", "BaseException"):
                return True
    return False


def imports(nodes: list[ast.AST]) -> Iterator[tuple[int, str]]:
    """(line, top-level module) of every absolute import not guarded by ``except ImportError``,
    among ``nodes`` (every node of one module)."""
    guarded: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Try) and _catches_import_error(node.handlers):
            for stmt in node.body:
                guarded |= {id(n) for n in ast.walk(stmt)}
    for node in nodes:
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.lineno, node.module.split(".")[0]
        elif isinstance(node, ast.Call) and node.args:
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            arg = node.args[0]
            if (
                name in ("import_module", "__import__")
                and isinstance(arg, ast.Constant)
                and isinstance(arg.value, str)
                and not arg.value.startswith(".")
            ):
                yield node.lineno, arg.value.split(".")[0]


# -- the check ----------------------------------------------------------------------------------


def marked(lines: list[str], line: int) -> bool:
    """The line says ``tree-check: ok``, or a comment line right above it does."""
    if not 0 < line <= len(lines):
        return False
    above = lines[line - 2].lstrip() if line > 1 else ""
    return OK_MARKER in lines[line - 1] or (above.startswith("#") and OK_MARKER in above)


def check(root: Path, counted: list[int] | None = None) -> list[Finding]:
    """Every finding under ``root``, sorted; ``counted`` (if given) gets the number of files
    checked appended."""
    root = root.resolve()
    checked = 0
    pyproject = root / "pyproject.toml"
    dists = declared_distributions(pyproject) if pyproject.is_file() else set()
    provided = import_names_of(dists)
    local = repo_modules(root, pyproject)
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    findings: list[Finding] = []
    for path in candidate_files(root):
        kind = kind_of(root, path)
        if kind is None:
            continue
        rel = path.relative_to(root).as_posix()
        checked += 1
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            findings.append(Finding(rel, 0, f"cannot be read as UTF-8 text: {exc}"))
            continue
        if kind == "shell":
            findings.extend(shell_findings(rel, text, root))
            continue
        try:
            tree = ast.parse(text, filename=rel)
        except SyntaxError as exc:
            findings.append(Finding(rel, exc.lineno or 0, f"does not parse: {exc.msg}"))
            continue
        lines = text.splitlines()

        nodes = list(ast.walk(tree))
        for line, message in python_paths(nodes, root):
            if not marked(lines, line):
                findings.append(Finding(rel, line, message))
        siblings = {p.stem for p in path.parent.glob("*.py")} | {
            p.name for p in path.parent.iterdir() if p.is_dir()
        }
        for line, module in imports(nodes):
            if module in stdlib or module in local or module in provided or module in siblings:
                continue
            if marked(lines, line):
                continue
            findings.append(
                Finding(
                    rel,
                    line,
                    f"imports {module!r}, which is neither in the repository, nor the standard "
                    "library, nor a dependency declared in pyproject.toml (declare it, with a "
                    "comment saying why, or drop the import)",
                )
            )
    if counted is not None:
        counted.append(checked)
    return sorted(set(findings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parents[1],
        help="the repository to check (default: this one)",
    )
    args = parser.parse_args(argv)
    counted: list[int] = []
    findings = check(args.root, counted)
    for f in findings:
        print(f, file=sys.stderr)
    if findings:
        print(
            f"check_tree: {len(findings)} problem(s): a test or source that depends on this "
            "machine passes here and fails on a fresh one",
            file=sys.stderr,
        )
        return 1
    print(f"check_tree: {counted[0]} files checked, no problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
