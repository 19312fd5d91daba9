"""tools/check_tree.py: a source or test that only passes on the machine that wrote it fails
``./dev check`` — a path in a temporary or home folder, a literal path on ``sys.path``, an import
of a module that is neither in the repository nor declared. Bad files are planted in temporary
trees (a copy of this repository's sources, or a small tree of their own); the real tree passes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools import check_tree

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "check_tree.py"

PYPROJECT = """\
[project]
name = "demo"
version = "0"
dependencies = ["requests>=2", "Pillow>=10"]

[project.optional-dependencies]
dev = ["demo[extra]", "pytest>=8"]
"""


def planted(text: str) -> str:
    """Bad text as the planted file holds it. Written here with a doubled slash ("//tmp/x"), so
    that this test file itself names no such path and passes the check it tests."""
    return text.replace("//", "/")


def tree(tmp_path: Path, files: dict[str, str], pyproject: str = PYPROJECT) -> Path:
    root = tmp_path / "repo"
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(pyproject)
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(planted(textwrap.dedent(text)))
    return root


def messages(root: Path) -> list[str]:
    return [str(f) for f in check_tree.check(root)]


def run_tool(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_real_tree_passes() -> None:
    proc = run_tool(ROOT)
    assert proc.returncode == 0, proc.stderr


def test_a_copy_of_the_repository_with_the_debugging_import_fails(tmp_path: Path) -> None:
    """The defect that made a clean clone fail: ``sys.path.insert`` of a temporary folder, then
    ``import dbg``. Planted into a copy of this repository's own sources."""
    copy = tmp_path / "clone"
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        src = ROOT / name
        if src.is_file() and (src.suffix in (".py", ".sh", ".toml") or name in ("dev", ".ci/run")):
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, copy / name)
    assert check_tree.check(copy) == []  # the copy alone is clean

    victim = copy / "tests" / "gui" / "test_sync_app.py"
    text = victim.read_text()
    victim.write_text(
        text
        + planted('\n\ndef _page():\n    sys.path.insert(0, "//tmp/appsync")\n    import dbg\n')
    )
    proc = run_tool(copy)
    assert proc.returncode == 1
    lines = victim.read_text().splitlines()
    insert_line = next(i for i, s in enumerate(lines, 1) if planted("//tmp/appsync") in s)
    err = proc.stderr
    bad = planted("'//tmp/appsync'")
    assert f"tests/gui/test_sync_app.py:{insert_line}: puts the absolute path {bad}" in err
    assert f"tests/gui/test_sync_app.py:{insert_line + 1}: imports 'dbg'" in err
    assert planted("names '//tmp/appsync'") in err


@pytest.mark.parametrize(
    "line",
    [
        'DATA = Path("//home/alice/gridroom/cases.sqlite")',
        'LOG = "//tmp/appsync/log.txt"',
        'SCRATCH = f"//tmp/{name}/x"',
        'cmd = ["cp", "a", "//root/.cache/gridroom/x"]',
        'os.environ["PYTHONPATH"] = "//work/main:" + other',
        'open("//var/tmp/leftover.json")',
        'url = "file://mnt/share/x"',
    ],
)
def test_a_personal_absolute_path_in_python_fails(tmp_path: Path, line: str) -> None:
    source = f"import os\nfrom pathlib import Path\nname = 'x'\n{line}\n"
    root = tree(tmp_path, {"pkg/mod.py": source})
    found = messages(root)
    assert len(found) == 1 and found[0].startswith("pkg/mod.py:4: names '/"), found


def test_system_locations_docstrings_comments_and_routes_pass(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "pkg/ok.py": '''\
            """Writes //tmp/whatever in a docstring, which is prose, not a path the code opens."""
            from pathlib import Path

            SITE = Path("/etc/gridroom/site.toml")  # a comment naming //home/x is fine too
            OPT = "/opt/gridroom/gridroom"
            ENV = "/usr/bin/env"
            NULL = "/dev/null"
            FDS = Path("/proc/self/fd")
            ROUTE = "/v1/push"
            WINDOWS = "C:\\\\ProgramData\\\\Gridroom\\\\site.toml"
            TEMPLATE = "//tmp/gridroom.XXXXXX"
            HOMELESS = "/homepage"
            ''',
        },
    )
    assert messages(root) == []


def test_the_checkouts_own_location_fails() -> None:
    """A clone can be anywhere: naming where this one happens to be (here /srv/gridroom, a
    system prefix that the folder rules alone would let through) is a failure."""
    root = Path("/srv/gridroom")
    assert check_tree.names_checkout('HERE = "/srv/gridroom/pkg/data.json"', root) == [str(root)]
    assert check_tree.names_checkout("cd /srv/gridroom && ls", root) == [str(root)]
    assert check_tree.shell_paths("cd /srv/gridroom && ls", root) == [str(root)]


def test_a_path_that_only_contains_the_checkouts_location_passes() -> None:
    """Found on a clone at /src: /usr/src/py is not the checkout."""
    root = Path("/src")
    for text in ("/usr/src/py", "cd /usr/src/py/python3.11-*/", "/src-other/x", "/srcs"):
        assert check_tree.names_checkout(text, root) == [], text
        assert check_tree.personal_paths(text, root) == [], text
    assert check_tree.shell_paths("cd /usr/src/py && make", root) == []
    # A clone at /src: the chroot's own /src (installer/oldglibc.sh) is not the clone.
    assert check_tree.shell_paths('in_root sh -c "cd /src && make"', root) == []


@pytest.mark.parametrize(
    "call",
    [
        'sys.path.append("/usr/lib/python3/dist-packages")',
        'sys.path.insert(0, "/opt/tools")',
        'sys.path.extend(["/srv/lib"])',
        'site.addsitedir("/usr/local/lib/python3.11/site-packages")',
        'sys.path.insert(0, "~/lib")',
    ],
)
def test_any_literal_absolute_path_on_sys_path_fails(tmp_path: Path, call: str) -> None:
    root = tree(tmp_path, {"pkg/mod.py": f"import site\nimport sys\n{call}\n"})
    found = messages(root)
    assert any("pkg/mod.py:3: puts the absolute path" in f for f in found), found


def test_sys_path_from_the_repository_passes(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "pkg/mod.py": """\
            import sys
            from pathlib import Path

            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            """
        },
    )
    assert messages(root) == []


def test_imports_must_be_local_stdlib_or_declared(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "pkg/mod.py": """\
            import importlib
            import tomllib
            import winreg  # the standard library of any platform

            import PIL.Image  # declared as Pillow: the distribution's name is not the module's
            import pytest  # declared in an optional group
            import requests

            import pkg.other
            from . import other
            from sibling import thing  # a module beside this one

            try:
                import optional_thing
            except ImportError:
                optional_thing = None

            import undeclared_module
            from also_missing.sub import x
            mod = importlib.import_module("dbg")
            """,
            "pkg/sibling.py": "thing = 1\n",
            "pkg/other.py": "",
        },
    )
    found = [(f.path, f.line, f.message.split("'")[1]) for f in check_tree.check(root)]
    assert found == [
        ("pkg/mod.py", 18, "undeclared_module"),
        ("pkg/mod.py", 19, "also_missing"),
        ("pkg/mod.py", 20, "dbg"),
    ]


def test_an_import_is_allowed_once_declared(tmp_path: Path) -> None:
    files = {"pkg/mod.py": "import PIL\n"}
    undeclared = tree(tmp_path / "a", files, PYPROJECT.replace('"Pillow>=10"', '"requests"'))
    assert [f.split(":")[1] for f in messages(undeclared)] == ["1"]
    declared = tree(tmp_path / "b", files)
    assert messages(declared) == []


def test_shell_scripts_are_checked_too(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "dev": """\
            #!/usr/bin/env bash
            # Comments may name //tmp/anything.
            WORK=$(mktemp -d //tmp/gridroom-x.XXXXXX)
            STATE="${TMPDIR:-/tmp}/state"
            exec /usr/bin/env python3 -c 'print(1)' >/dev/null
            cp "$ROOT/tmp/file" "$HOME/x"
            mkdir -p "$ROOT"//tmp "$WORK"//home/x
            echo "it's fine" >"$WORK/log"
            # tree-check: ok: inside the chroot, continued on the next line.
            in_root apt-get install //tmp/inside.deb \\
                //tmp/also-inside.deb
            echo ok  # tree-check: ok for //root here
            rm -rf //tmp/venv-check  # tree-check: ok (inside the chroot)
            source //home/alice/dbg.sh
            """,
            ".ci/run": "#!/usr/bin/env bash\ncd //work/main && ./dev test\n",
            "scripts/setup.sh": "cat //tmp/leftover.txt | grep x  # reads a leftover\n",
            "scripts/tool": "#!/bin/sh\nexport PYTHONPATH=//root/lib\nls >//tmp/log\n",
            "notes.txt": "//tmp/not-code\n",
        },
    )
    found = sorted(f.split(": ")[0] + " " + f.split("'")[1] for f in messages(root))
    assert found == [
        planted(".ci/run:2 //work/main"),
        planted("dev:14 //home/alice/dbg.sh"),
        planted("scripts/setup.sh:1 //tmp/leftover.txt"),
        planted("scripts/tool:2 //root/lib"),
        planted("scripts/tool:3 //tmp/log"),
    ]


def test_the_tool_names_every_problem_and_exits_1(tmp_path: Path) -> None:
    root = tree(tmp_path, {"pkg/a.py": 'P = "//tmp/a"\n', "pkg/b.py": "import nowhere\n"})
    proc = run_tool(root)
    assert proc.returncode == 1
    assert planted("pkg/a.py:1: names '//tmp/a'") in proc.stderr
    assert "pkg/b.py:1: imports 'nowhere'" in proc.stderr
    assert "2 problem(s)" in proc.stderr
    clean = tree(tmp_path / "clean", {"pkg/a.py": 'P = "/etc/gridroom"\n'})
    assert run_tool(clean).returncode == 0


def test_files_git_ignores_are_not_checked(tmp_path: Path) -> None:
    root = tree(tmp_path, {"pkg/mod.py": "import json\n", "scratch/local.py": 'P = "//tmp/x"\n'})
    (root / ".gitignore").write_text("scratch/\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert messages(root) == []  # ignored, and untracked files that are not ignored still count
    (root / "pkg" / "new.py").write_text(planted('P = "//tmp/new"\n'))
    assert [f.split(":")[0] for f in messages(root)] == ["pkg/new.py"]
