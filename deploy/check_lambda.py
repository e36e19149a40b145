"""Try ``dist/lambda.zip`` the way Lambda runs it, and time its cold start.

``python -m deploy.check_lambda`` (after ``make package``) unzips the package
into a temporary directory and, several times over, starts a fresh isolated
Python 3.12 (``python -I -S -B``: no site-packages, no environment, no current
directory, no bytecode written) that sees only the standard library and that
directory, imports ``lambda_handler`` and answers a LaunchRequest and a
question. It prints the zip's size and the median cold start: the import, the
import plus the first response, and the whole process. Lambda's ``/var/task``
is read-only, so a cold start there can only use the bytecode the zip ships
(``make package`` compiles it for 3.12); ``-B`` makes every run here the same.

The interpreter is the one ``deploy.package_lambda.find_python`` finds (Lambda's
runtime is ``python3.12``); if this machine has none, the interpreter running
this, which then ignores the shipped 3.12 bytecode and compiles the sources.
``tests/test_deploy_lambda.py`` runs the same probe and checks its answers;
``make bench`` compares the cold start with the SDK's hello world.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import package_lambda
from .package_lambda import DEFAULT_OUT, PYTHON_VERSION

PROBE = Path(__file__).with_name("lambda_probe.py")
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"


def find_python(version: str = PYTHON_VERSION) -> str:
    """Lambda's Python if this machine has one, else this interpreter's base one."""
    try:
        return package_lambda.find_python(version)
    except package_lambda.PackagingError:
        # A venv's interpreter is its base one plus site-packages, which -S turns off anyway.
        return getattr(sys, "_base_executable", None) or sys.executable


def extract(zip_path: Path, directory: Path) -> Path:
    """Unzip like Lambda does into ``directory``; returns it."""
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(directory)
    return directory


@dataclass
class ProbeRun:
    report: dict[str, Any]
    wall_ms: float  # the whole process: interpreter start, import, every event, exit


def probe(package_dir: Path, events: list[dict[str, Any]], python: str | None = None,
          env: dict[str, str] | None = None) -> ProbeRun:
    """One fresh isolated interpreter answering ``events`` from ``package_dir``."""
    python = python or find_python()
    with tempfile.TemporaryDirectory(prefix="lambda-probe-") as tmp:
        events_file = Path(tmp) / "events.json"
        events_file.write_text(json.dumps(events), encoding="utf-8")
        settings = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "SKILL_ID": SKILL_ID,
                    "LOG_LEVEL": "WARNING", **(env or {})}
        began = time.perf_counter()
        done = subprocess.run([python, "-I", "-S", "-B", str(PROBE), str(package_dir), str(events_file)],
                              cwd=tmp, env=settings, capture_output=True, text=True, timeout=120)
        wall_ms = (time.perf_counter() - began) * 1000
    if done.returncode:
        raise RuntimeError(f"probe failed ({done.returncode}):\n{done.stderr}")
    return ProbeRun(json.loads(done.stdout), wall_ms)


def sample_events(skill_id: str = SKILL_ID) -> list[dict[str, Any]]:
    """A LaunchRequest and a question, as full envelopes like an Echo sends."""
    def envelope(request: dict[str, Any]) -> dict[str, Any]:
        application, user = {"applicationId": skill_id}, {"userId": "amzn1.ask.account.PROBE"}
        return {"version": "1.0",
                "session": {"new": True, "sessionId": f"amzn1.echo-api.session.{uuid.uuid4()}",
                            "application": application, "attributes": {}, "user": user},
                "context": {"System": {"application": application, "user": user,
                                       "device": {"deviceId": "amzn1.ask.device.PROBE", "supportedInterfaces": {}},
                                       "apiEndpoint": "https://api.amazonalexa.com"}},
                "request": {"requestId": f"amzn1.echo-api.request.{uuid.uuid4()}", "locale": "en-US",
                            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **request}}
    return [envelope({"type": "LaunchRequest"}),
            envelope({"type": "IntentRequest", "dialogState": "COMPLETED",
                      "intent": {"name": "PsaTestIntent", "confirmationStatus": "NONE", "slots": {}}})]


@dataclass
class ColdStart:
    python: str
    runs: int
    import_ms: float
    first_response_ms: float
    process_ms: float
    warm_ms: float


def cold_start(package_dir: Path, runs: int = 5, python: str | None = None) -> ColdStart:
    """Medians over ``runs`` fresh processes."""
    python = python or find_python()
    results = [probe(package_dir, sample_events(), python) for _ in range(runs)]
    for run in results:
        errors = [r["error"] for r in run.report["results"] if "error" in r]
        if errors:
            raise RuntimeError(f"the package failed to answer: {errors}")
    version = ".".join(map(str, results[0].report["python"]))
    return ColdStart(
        python=f"{version} ({python})", runs=runs,
        import_ms=statistics.median(r.report["import_ms"] for r in results),
        first_response_ms=statistics.median(r.report["first_response_ms"] for r in results),
        process_ms=statistics.median(r.wall_ms for r in results),
        warm_ms=statistics.median(r.report["latencies_ms"][-1] for r in results))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, default=DEFAULT_OUT, help="package to try (default: dist/lambda.zip)")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes to take the median of")
    args = parser.parse_args(argv)
    if not args.zip.exists():
        print(f"{args.zip} does not exist: run `make package` first", file=sys.stderr)
        return 1
    size = args.zip.stat().st_size
    with tempfile.TemporaryDirectory(prefix="lambda-task-") as tmp:
        numbers = cold_start(extract(args.zip, Path(tmp)), args.runs)
    print(f"zip: {args.zip} {size:,} bytes ({size / 1_048_576:.2f} MiB)")
    print(f"python: {numbers.python}; median of {numbers.runs} cold starts")
    print(f"  import lambda_handler:          {numbers.import_ms:7.1f} ms")
    print(f"  import + first response:        {numbers.first_response_ms:7.1f} ms")
    print(f"  whole process (start to exit):  {numbers.process_ms:7.1f} ms")
    print(f"  a warm request (the second):    {numbers.warm_ms:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
