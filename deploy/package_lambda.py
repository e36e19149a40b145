"""Build ``dist/lambda.zip``: the skill and its runtime dependencies for AWS Lambda.

``python -m deploy.package_lambda`` (``make package``):

1. ``pip install --target`` the pins of ``requirements-lambda.txt`` as wheels
   for Lambda's ``python3.12`` on ``x86_64`` (whatever Python runs this), and
   fail if pip brought anything that is not pinned there;
2. add ``lambda_handler.py`` and the whole ``skill`` package (the voice app
   only: the web host, the simulator and the build tools live elsewhere);
3. compile every module to bytecode with a Python 3.12, next to its source
   (``__pycache__/*.cpython-312.pyc``), in ``unchecked-hash`` mode: Lambda's
   ``/var/task`` is read-only, so without shipped bytecode every cold start
   compiles all ~860 modules again; with it, imports just load them. Unchecked
   hash-based files carry no timestamps and are never compared with the
   source, so file times cannot matter;
4. zip it reproducibly: entries sorted, every timestamp 1980-01-01, every file
   mode 0644, no console scripts, and none of the dist-info files that vary
   between installs (``RECORD``, ``INSTALLER``, ``REQUESTED``,
   ``direct_url.json``). The same inputs give the same bytes.

Bytecode is only valid for one Python minor version. The 3.12 is found as
``LAMBDA_PYTHON``, else ``python3.12`` on ``PATH``, else pyenv's
``~/.pyenv/versions/3.12.*``; without one the build stops and says how to get
one, and every ``.pyc`` is checked for 3.12's magic number before it is zipped.

Compiling is made deterministic on purpose: a ``.pyc`` records the path it was
compiled from (``co_filename``), which would be the random staging directory,
so paths are recorded as ``/var/task/...`` (where Lambda unpacks the zip);
files are compiled one by one in sorted order by one process (marshal's
back-references depend on the compiling process's state, so no worker pool);
and ``PYTHONHASHSEED=0`` (3.12's marshal already writes sets sorted; this keeps
it so for anything hash-ordered).

The template (``template.yaml``) deploys the zip as it is: ``sam deploy``, no
``sam build``.
"""
from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements-lambda.txt"
DEFAULT_OUT = ROOT / "dist" / "lambda.zip"

# Lambda's python3.12 runtime (Amazon Linux 2023, glibc 2.34) on x86_64.
PYTHON_VERSION = "3.12"
PLATFORM = "manylinux2014_x86_64"
# The first bytes of every CPython 3.12 .pyc (magic number 3531 + b"\r\n"), the
# same for every 3.12.x; pre-releases differ, and their bytecode is refused.
PYC_MAGIC = (3531).to_bytes(2, "little") + b"\r\n"
CACHE_TAG = "cpython-" + PYTHON_VERSION.replace(".", "")
TASK_ROOT = "/var/task"  # where Lambda unpacks the zip; recorded in tracebacks

# dist-info files that differ between two installs of the same wheel, or that
# only pip's own bookkeeping reads.
VOLATILE_METADATA = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--: Lambda's runtime user is not the owner


class PackagingError(RuntimeError):
    """The zip cannot be built as asked; the message says why."""


def find_python(version: str = PYTHON_VERSION) -> str:
    """A CPython ``version`` interpreter on this machine; PackagingError saying how to get one if none.

    ``LAMBDA_PYTHON`` wins when set, and must then be right: a wrong one is an
    error, never a silent fall-through to something else.
    """
    name = f"python{version}"
    chosen = os.environ.get("LAMBDA_PYTHON")
    candidates = [chosen] if chosen else [
        shutil.which(name),
        *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/{name}")), reverse=True),
        f"/usr/local/bin/{name}", f"/usr/bin/{name}"]
    for candidate in filter(None, candidates):
        if _python_version(candidate) == f"cpython {version}":
            return candidate
    if chosen:
        raise PackagingError(f"LAMBDA_PYTHON={chosen} is not a working CPython {version} "
                             f"({_what_it_is(chosen)}); Lambda's runtime is "
                             f"python{version} and bytecode only loads on the version that compiled it")
    raise PackagingError(
        f"building the Lambda zip needs CPython {version} (Lambda's runtime) to compile its bytecode, "
        f"and none was found (tried LAMBDA_PYTHON, {name} on PATH, ~/.pyenv/versions/{version}.*). "
        f"Install one, e.g. `pyenv install {version}` or `apt-get install {name}` where your "
        f"distribution has it, or point LAMBDA_PYTHON=/path/to/{name} at one")


def _what_it_is(python: str) -> str:
    """Why ``python`` is not the interpreter asked for, in the words a newcomer needs to fix it."""
    path = python if os.sep in python else shutil.which(python)
    if path is None:
        return f"no command {python!r} on PATH"
    if not os.path.exists(path):
        return "no such file"
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        return "not an executable file"
    found = _python_version(path)
    return f"it is {found}" if found else "it ran but did not report a Python version"


def _python_version(python: str) -> str | None:
    """``"cpython 3.12"`` for a working interpreter, None otherwise."""
    try:
        out = subprocess.run([python, "-I", "-S", "-c",
                              "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def canonical(name: str) -> str:
    """Package names as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """``{name: version}`` of every ``name==version`` line."""
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)", line)
        if not match:
            raise PackagingError(f"{requirements.name}: pin every package exactly (name==version): {line!r}")
        pins[canonical(match[1])] = match[2]
    return pins


def installed(site: Path) -> dict[str, str]:
    """``{name: version}`` of the distributions pip put in ``site``."""
    found = {}
    for dist_info in site.glob("*.dist-info"):
        fields = {}
        for line in (dist_info / "METADATA").read_text(encoding="utf-8").splitlines():
            if not line:
                break
            key, _, value = line.partition(": ")
            fields.setdefault(key, value.strip())
        found[canonical(fields["Name"])] = fields["Version"]
    return found


def install_dependencies(site: Path, requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """Install the pinned wheels for Lambda into ``site``; the pins, once checked."""
    pins = pinned(requirements)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-compile", "--no-warn-script-location", "--target", str(site),
               "--platform", PLATFORM, "--implementation", "cp", "--python-version", PYTHON_VERSION,
               "--only-binary=:all:", "-r", str(requirements)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise PackagingError(f"pip install failed:\n{result.stdout}{result.stderr}")
    got = installed(site)
    unpinned = sorted(set(got) - set(pins))
    if unpinned:
        raise PackagingError(f"pip installed packages not pinned in {requirements.name}: "
                             + ", ".join(f"{n}=={got[n]}" for n in unpinned))
    mismatched = sorted(n for n in pins if got.get(n) != pins[n])
    if mismatched:
        raise PackagingError(f"pinned in {requirements.name} but not installed as pinned: "
                             + ", ".join(f"{n}=={pins[n]} (got {got.get(n)})" for n in mismatched))
    return pins


def copy_app(staging: Path, root: Path = ROOT) -> None:
    """Copy the Lambda entry point and the whole skill package."""
    shutil.copyfile(root / "lambda_handler.py", staging / "lambda_handler.py")
    shutil.copytree(root / "skill", staging / "skill", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


# Run by the 3.12 in a fresh process: compile every .py under the staging
# directory in sorted order, recording /var/task/... as each file's path.
_COMPILE = """
import compileall, py_compile, sys
ok = compileall.compile_dir(sys.argv[1], maxlevels=100, ddir=sys.argv[2], quiet=1, workers=1,
                            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
sys.exit(0 if ok else 1)
"""


def compile_bytecode(staging: Path, python: str) -> int:
    """Compile every module in ``staging`` for Lambda with ``python`` (a 3.12); how many .pyc files."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
    # -s -E: nothing from the user's site or environment; SyntaxWarnings are the
    # SDK's docstrings (invalid escapes), not ours to fix.
    result = subprocess.run([python, "-s", "-E", "-W", "ignore::SyntaxWarning", "-c", _COMPILE,
                             str(staging), TASK_ROOT], capture_output=True, text=True, env=env)
    if result.returncode:
        raise PackagingError(f"compiling bytecode with {python} failed:\n{result.stdout}{result.stderr}")
    compiled = 0
    for pyc in staging.rglob("*.pyc"):
        if not pyc.name.endswith(f".{CACHE_TAG}.pyc") or pyc.read_bytes()[:4] != PYC_MAGIC:
            raise PackagingError(f"{pyc.relative_to(staging)} is not CPython {PYTHON_VERSION} bytecode; "
                                 f"{python} is the wrong interpreter")
        compiled += 1
    sources = [p for p in staging.rglob("*.py") if p.relative_to(staging).parts[0] != "bin"]
    if compiled != len(sources):
        raise PackagingError(f"{len(sources)} modules but {compiled} compiled files")
    return compiled


def _shipped(path: Path, staging: Path) -> bool:
    parts = path.relative_to(staging).parts
    if parts[0] == "bin":            # console scripts: shebangs name the build machine's Python
        return False
    if path.suffix in (".pyc", ".pyo"):   # only 3.12 bytecode beside its own source
        return (parts[-2:-1] == ("__pycache__",) and path.name.endswith(f".{CACHE_TAG}.pyc")
                and path.parent.parent.joinpath(path.name.split(".", 1)[0] + ".py").is_file())
    return not (len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in VOLATILE_METADATA)


def write_zip(staging: Path, out: Path) -> list[str]:
    """Zip every shipped file of ``staging`` into ``out`` reproducibly; the entry names."""
    files = sorted((p for p in staging.rglob("*") if p.is_file() and _shipped(p, staging)),
                   key=lambda p: p.relative_to(staging).as_posix())
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}-", dir=out.parent)
    os.close(fd)
    names = []
    try:
        with zipfile.ZipFile(tmp_name, "w") as archive:
            for path in files:
                name = path.relative_to(staging).as_posix()
                info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
                info.create_system = 3            # unix, so external_attr holds the mode
                info.external_attr = FILE_MODE << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes(), compresslevel=9)
                names.append(name)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, out)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return names


def build(out: Path = DEFAULT_OUT, requirements: Path = REQUIREMENTS, root: Path = ROOT,
          python: str | None = None) -> list[str]:
    """Build the Lambda zip at ``out``, bytecode compiled by ``python`` (default: ``find_python()``)."""
    python = python or find_python()
    with tempfile.TemporaryDirectory(prefix="lambda-package-") as tmp:
        staging = Path(tmp)
        install_dependencies(staging, requirements)
        copy_app(staging, root)
        compile_bytecode(staging, python)
        return write_zip(staging, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="zip to write (default: dist/lambda.zip)")
    args = parser.parse_args(argv)
    try:
        names = build(args.out)
    except PackagingError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 1
    size = args.out.stat().st_size
    compiled = sum(name.endswith(".pyc") for name in names)
    print(f"wrote {args.out}: {len(names)} files ({compiled} compiled for python{PYTHON_VERSION}), "
          f"{size:,} bytes ({size / 1_048_576:.2f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
