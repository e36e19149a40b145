"""Cold start the way Lambda runs it: three packages, ``python3.12 -I -B``, read-only copies.

What a listener waits for on a cold Lambda is the import of the package as
shipped plus the first answer. Lambda's ``/var/task`` is read-only, so nothing
is compiled and kept: only bytecode that ships is used. Compared, in one run,
alternating, as medians:

- ``ours``: ``dist/lambda.zip`` as ``make package`` builds it (with 3.12 bytecode);
- ``ours, no bytecode``: the same files without ``__pycache__`` (the zip before issue 13);
- ``SDK hello world``: ask-sdk-core installed the ordinary way,
  ``python3.12 -m pip install --target`` (pip compiles bytecode as it installs),
  with the same pins as our zip, plus ``bench/hello.py`` as ``lambda_function.py``.

Each side is copied once into a temporary directory and made read-only
(``chmod a-w``; root ignores that, so ``-B`` is what stops writes, and the
copies are checked unchanged afterwards). Every run is a fresh interpreter
answering one IntentRequest (``bench/coldstart.py``) with the template's
settings (``SKILL_ID``, ``LOG_LEVEL=INFO``), in two modes: ``runtime``, where
the probe first imports what Lambda's own bootstrap has loaded before it
imports a handler (json, logging, traceback, and a root log handler), so a
package is charged only for what it adds; and ``bare``, a plain interpreter.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from deploy import check_lambda, package_lambda

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "bench"
PROBE = Path(__file__).with_name("coldstart.py")
HELLO_SOURCE = Path(__file__).with_name("hello.py")
SKILL_ID = check_lambda.SKILL_ID
VARIANTS = ("ours", "ours, no bytecode", "SDK hello world")
MODES = ("runtime", "bare")
ENTRIES = {"ours": "lambda_handler:handler", "ours, no bytecode": "lambda_handler:handler",
           "SDK hello world": "lambda_function:handler"}
Progress = Callable[[str], None]


def event() -> str:
    """A topic question (IntentRequest) as a full envelope; hello world answers it with its constant."""
    return json.dumps(check_lambda.sample_events(SKILL_ID)[1])


def hello_world(python: str, progress: Progress) -> Path:
    """The SDK hello world installed with ``pip install --target``; cached in build/bench by pins."""
    command = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-script-location",
               "-c", str(package_lambda.REQUIREMENTS), f"ask-sdk-core=={package_lambda.pinned()['ask-sdk-core']}"]
    key = hashlib.sha256(json.dumps([python, command, package_lambda.REQUIREMENTS.read_text(),
                                     HELLO_SOURCE.read_text()]).encode()).hexdigest()[:12]
    target = CACHE / f"sdk-hello-world-{key}"
    if not target.exists():
        progress(f"installing the SDK hello world with {python} -m pip install --target (once; cached in {target})")
        CACHE.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".sdk-hello-", dir=CACHE))
        try:
            subprocess.run([python, *command, "--target", str(staging)], check=True,
                           capture_output=True, text=True)
            shutil.copyfile(HELLO_SOURCE, staging / "lambda_function.py")
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return target


def read_only_copy(source: Path, target: Path, *, bytecode: bool = True) -> Path:
    """Copy ``source`` to ``target`` (without ``__pycache__`` unless ``bytecode``) and drop write bits."""
    ignore = None if bytecode else shutil.ignore_patterns("__pycache__")
    shutil.copytree(source, target, ignore=ignore)
    for path in sorted(target.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    target.chmod(0o555)
    return target


def snapshot(directory: Path) -> int:
    return sum(1 for _ in directory.rglob("*"))


@dataclass
class Run:
    ms: float         # probe start to first response (import + answer)
    import_ms: float
    process_ms: float  # fork to exit, interpreter start-up included
    peak_rss_mib: float
    version: str


def run_once(python: str, package: Path, entry: str, payload: str, mode: str = "runtime") -> Run:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "SKILL_ID": SKILL_ID, "LOG_LEVEL": "INFO"}
    began = time.perf_counter()
    done = subprocess.run([python, "-I", "-B", str(PROBE), mode, str(package), entry, payload],
                          cwd=package, env=env, capture_output=True, text=True, timeout=120)
    process_ms = (time.perf_counter() - began) * 1000
    if done.returncode:
        raise RuntimeError(f"cold-start probe failed in {package}:\n{done.stderr[-2000:]}")
    out = json.loads(done.stdout)
    if not out["sdk_file"].startswith(str(package)) or out["python"][:2] != [3, 12]:
        raise RuntimeError(f"the probe did not run as intended: {out}")
    return Run(out["ms"], out["import_ms"], process_ms, out["peak_rss_mib"], ".".join(map(str, out["python"])))


@dataclass
class Result:
    python: str
    rounds: int
    runs: dict[tuple[str, str], list[Run]]

    def median(self, variant: str, field: str, mode: str = "runtime") -> float:
        return statistics.median(getattr(r, field) for r in self.runs[(variant, mode)])


def compare(rounds: int, progress: Progress) -> Result:
    """Build and install the three packages, then time them alternately, ``rounds`` runs each."""
    python = package_lambda.find_python()
    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as tmp:
        work = Path(tmp)
        zip_path = Path(os.environ["BENCH_LAMBDA_ZIP"]) if os.environ.get("BENCH_LAMBDA_ZIP") else None
        if zip_path is None:
            progress(f"building our zip as `make package` does (bytecode by {python})")
            zip_path = work / "lambda.zip"
            package_lambda.build(zip_path, python=python)
        else:   # the test suite's own build of the same zip, made once per run
            progress(f"using our zip as `make package` built it: {zip_path} (BENCH_LAMBDA_ZIP)")
        unpacked = check_lambda.extract(zip_path, work / "unpacked")
        dirs = {"ours": read_only_copy(unpacked, work / "ours"),
                "ours, no bytecode": read_only_copy(unpacked, work / "ours-no-bytecode", bytecode=False),
                "SDK hello world": read_only_copy(hello_world(python, progress), work / "sdk-hello-world")}
        before = {name: snapshot(d) for name, d in dirs.items()}
        payload = event()
        runs: dict[tuple[str, str], list[Run]] = {(name, mode): [] for name in VARIANTS for mode in MODES}
        for i in range(rounds):
            progress(f"cold start round {i + 1}/{rounds}")
            order = VARIANTS[i % 3:] + VARIANTS[:i % 3]  # rotate, so no side always runs first
            for mode in MODES:
                for name in order:
                    runs[(name, mode)].append(run_once(python, dirs[name], ENTRIES[name], payload, mode))
        changed = [name for name, d in dirs.items() if snapshot(d) != before[name]]
        if changed:
            raise RuntimeError(f"something was written into the read-only copies: {changed}")
    return Result(python=f"{runs[('ours', 'runtime')][0].version} ({python})", rounds=rounds, runs=runs)


if __name__ == "__main__":
    import sys
    result = compare(int(sys.argv[1]) if len(sys.argv) > 1 else 9, lambda m: print(m, file=sys.stderr))
    for mode in MODES:
        for name in VARIANTS:
            print(f"{mode:8} {name:20} {result.median(name, 'ms', mode):6.1f} ms"
                  f"  import {result.median(name, 'import_ms', mode):6.1f}"
                  f"  process {result.median(name, 'process_ms', mode):6.1f}"
                  f"  rss {result.median(name, 'peak_rss_mib', mode):.1f}")

