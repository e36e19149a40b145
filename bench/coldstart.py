"""Cold-start probe, run by ``bench.lambda_coldstart`` as a script in a fresh ``python3.12 -I -B``.

Usage: ``python3.12 -I -B coldstart.py MODE PACKAGE_DIR MODULE:FUNCTION EVENT_JSON``.

MODE ``runtime`` first does what Lambda's Python runtime (awslambdaric's
``bootstrap.py``) does before it imports a handler: it imports json, logging,
traceback and importlib, and puts a formatting handler on the root logger, so
log lines are really written (to stderr here). MODE ``bare`` skips that: a
plain interpreter. Then, like Lambda with ``/var/task``, it puts PACKAGE_DIR
first on the path, imports MODULE, calls FUNCTION(event, None) once and prints
one JSON line: milliseconds from the clock's start (after the runtime's own
imports) to the first response, the import alone, the process's peak RSS, and
where the SDK was loaded from (so the caller can check nothing came from
outside the package). It imports nothing of the project.
"""
import sys
import time

if sys.argv[1] == "runtime":
    import importlib
    import json
    import logging
    import traceback  # noqa: F401

    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(message)s\n",
                                            "%Y-%m-%dT%H:%M:%S"))
    logging.getLogger().addHandler(_handler)

START = time.perf_counter()

import importlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402


def main(package: str, entry: str, event_json: str) -> None:
    sys.path.insert(0, package)
    module_name, _, function = entry.partition(":")
    module = importlib.import_module(module_name)
    imported = time.perf_counter()
    response = getattr(module, function)(json.loads(event_json), None)
    answered = time.perf_counter()
    assert response["response"]["outputSpeech"]["ssml"], response
    # VmHWM, not getrusage: ru_maxrss survives exec and would report the parent's size.
    with open("/proc/self/status") as status:
        peak_kib = int(re.search(r"VmHWM:\s+(\d+)", status.read())[1])
    print(json.dumps({"ms": (answered - START) * 1000, "import_ms": (imported - START) * 1000,
                      "peak_rss_mib": peak_kib / 1024, "sdk_file": sys.modules["ask_sdk_core"].__file__,
                      "python": list(sys.version_info[:3])}))


if __name__ == "__main__":
    main(*sys.argv[2:5])
