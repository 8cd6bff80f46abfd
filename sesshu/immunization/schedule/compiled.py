"""The engine compiled to C with mypyc, used when it was built from exactly these sources.

The forecast of a whole city is the engine's arithmetic repeated millions of times (a 1M-resident city
is forecast in the ``forecast_city_seconds`` benchmark). mypyc, the compiler that ships with mypy,
turns ``engine.py`` and ``dates.py`` into C extension modules from their type hints: the same code,
about a third less time per person. Nothing else changes: the Python files stay the source, the
compiled modules are a build product.

- ``make setup`` (so ``make demo`` and ``make test``) runs ``sesshu schedule compile``: it compiles
  the modules into ``var/build/schedule/<digest>/``, where the digest covers the package's sources
  (the modules the compiled ones were checked against included) and the Python version. A build
  already there is kept.
- ``activate`` (called by the package on import) puts that folder first on the package's path when
  a build for the current sources exists, so a changed ``engine.py`` (or ``rules.py``, ...) is never
  shadowed by a stale build: without a matching build the pure Python modules run, with the same
  answers.
- ``SESSHU_PURE_PYTHON=1`` runs the pure Python modules even when a build exists (the tests compare
  the two).
"""

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE = "sesshu.immunization.schedule"
MODULES = ("engine", "dates")
BUILD_ROOT = PACKAGE_DIR.parents[2] / "var" / "build" / "schedule"
# Outside the package, what the compiled modules import (and mypyc type-checks them against).
IMPORTED_SOURCES = (PACKAGE_DIR.parents[1] / "core" / "problems.py",)


def source_digest() -> str:
    """What a build is valid for: the interpreter's ABI and the sources the build was made from. That
    is every module of the package, not only the compiled ones: mypyc compiles ``engine.py`` against
    the classes and functions of ``rules``, ``types``, ``reasons`` and ``campaigns`` (it checks their
    attributes' types at run time where it assumed them), so a change there needs a new build too."""
    digest = hashlib.sha256(sysconfig.get_config_var("EXT_SUFFIX").encode())
    for source in [*sorted(PACKAGE_DIR.glob("*.py")), *IMPORTED_SOURCES]:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:20]


def build_dir() -> Path:
    return BUILD_ROOT / source_digest()


def _built(target: Path) -> bool:
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    package = target.joinpath(*PACKAGE.split("."))
    return all((package / f"{m}{suffix}").is_file() for m in MODULES)


def activate(package_path: list[str]) -> bool:
    """Use the compiled modules if they were built from the current sources; whether they are used."""
    if os.environ.get("SESSHU_PURE_PYTHON"):
        return False
    target = build_dir()
    if not _built(target):
        return False
    compiled = str(target.joinpath(*PACKAGE.split(".")))
    if compiled not in package_path:
        package_path.insert(0, compiled)
    if str(target) not in sys.path:
        sys.path.append(str(target))  # mypyc's shared runtime module sits at the top of the build
    return True


def in_use() -> bool:
    """Whether the engine running in this process is the compiled one."""
    from . import engine

    return not engine.__file__.endswith(".py")


def build() -> Path:
    """Compile the modules with mypyc into ``build_dir()`` (kept if it is there already)."""
    target = build_dir()
    if _built(target):
        return target
    sesshu_root = PACKAGE_DIR.parents[1]
    with tempfile.TemporaryDirectory(prefix="sesshu-mypyc-") as tmp:
        work = Path(tmp)
        # mypyc names modules after their paths and type-checks what they import: a copy of the package.
        shutil.copytree(sesshu_root, work / "sesshu", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        files = [str(Path(*PACKAGE.split("."), f"{m}.py")) for m in MODULES]
        command = [
            sys.executable, "-m", "mypyc", "--ignore-missing-imports", "--follow-imports=silent",
            "--no-warn-unused-ignores", *files,
        ]  # fmt: skip
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"mypyc failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
        staging = Path(tempfile.mkdtemp(prefix="staging-", dir=_ensure(BUILD_ROOT)))
        suffix = sysconfig.get_config_var("EXT_SUFFIX")
        for built in work.glob(f"*{suffix}"):  # the shared runtime of the group
            shutil.copy2(built, staging / built.name)
        package = staging.joinpath(*PACKAGE.split("."))
        package.mkdir(parents=True)
        for m in MODULES:
            shutil.copy2(work.joinpath(*PACKAGE.split("."), f"{m}{suffix}"), package / f"{m}{suffix}")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # whole or not at all: a half-copied build is never picked up
    return target


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
