"""Build ``dist/lambda.zip``: the skill and its runtime dependencies for AWS Lambda.

``python -m deploy.package_lambda`` (``make package``):

1. ``pip install --target`` the pins of ``requirements-lambda.txt`` as wheels
   for Lambda's ``python3.12`` on ``x86_64`` (whatever Python runs this), and
   fail if pip brought anything that is not pinned there;
2. add ``lambda_handler.py`` and the whole ``skill`` package (the voice app
   only: the web host, the simulator and the build tools live elsewhere);
3. zip it reproducibly: entries sorted, every timestamp 1980-01-01, every file
   mode 0644, no ``__pycache__``, no console scripts, and none of the
   dist-info files that vary between installs (``RECORD``, ``INSTALLER``,
   ``REQUESTED``, ``direct_url.json``). The same inputs give the same bytes.

The template (``template.yaml``) deploys the zip as it is: ``sam deploy``, no
``sam build``.
"""
from __future__ import annotations

import argparse
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

# dist-info files that differ between two installs of the same wheel, or that
# only pip's own bookkeeping reads.
VOLATILE_METADATA = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--: Lambda's runtime user is not the owner


class PackagingError(RuntimeError):
    """The zip cannot be built as asked; the message says why."""


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


def _shipped(path: Path, staging: Path) -> bool:
    parts = path.relative_to(staging).parts
    if parts[0] == "bin":            # console scripts: shebangs name the build machine's Python
        return False
    if "__pycache__" in parts or path.suffix in (".pyc", ".pyo"):
        return False
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


def build(out: Path = DEFAULT_OUT, requirements: Path = REQUIREMENTS, root: Path = ROOT) -> list[str]:
    """Build the Lambda zip at ``out``; the entry names."""
    with tempfile.TemporaryDirectory(prefix="lambda-package-") as tmp:
        staging = Path(tmp)
        install_dependencies(staging, requirements)
        copy_app(staging, root)
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
    print(f"wrote {args.out}: {len(names)} files, {size:,} bytes ({size / 1_048_576:.2f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
