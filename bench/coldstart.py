"""Cold-start probe, run by ``bench.lambda_coldstart`` as a script in a fresh ``python3.12 -I -B``.

Usage: ``python3.12 -I -B coldstart.py PACKAGE_DIR MODULE:FUNCTION EVENT_JSON``. Like
Lambda with ``/var/task``, it puts PACKAGE_DIR first on the path, imports MODULE,
calls FUNCTION(event, None) once and prints one JSON line: milliseconds from
the first line of this script to the first response, the import alone, the
process's peak RSS, and where the SDK was loaded from (so the caller can check
nothing came from outside the package). It imports nothing of the project.
"""
import time

START = time.perf_counter()

import importlib  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402


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
    main(*sys.argv[1:4])
