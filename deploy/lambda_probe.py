"""Run inside an isolated interpreter by ``deploy.check_lambda``: never imported.

Usage: ``python -I -S -B lambda_probe.py PACKAGE_DIR EVENTS_JSON``. With ``-I -S``
the interpreter sees only its standard library; this script adds PACKAGE_DIR
(an unzipped ``lambda.zip``), as Lambda puts ``/var/task`` on the path, then
imports ``lambda_handler`` and answers each event in EVENTS_JSON in turn.
``PROBE_LOCAL_API`` (optional) names a simulator's Alexa API on loopback that
the skill may call; production code calls only Amazon's hosts.

It prints one JSON object: the responses (or the exception's class name), the
timings, and what the process could see (``sys.path``, the file of every
loaded module, whether webhook-only packages were importable), so the caller
can check that nothing came from outside the package or the standard library.
"""
import time

STARTED = time.perf_counter()

import importlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402


def check_bytecode(package):
    """Check every shipped .pyc with this interpreter's own rules: magic, mode, source hash."""
    import os
    magic, tag = importlib.util.MAGIC_NUMBER, sys.implementation.cache_tag
    checked, problems = 0, []
    for folder, _, files in os.walk(package):
        if os.path.basename(folder) != "__pycache__":
            continue
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                head = fh.read(16)
            source = os.path.join(os.path.dirname(folder), name.split(".", 1)[0] + ".py")
            checked += 1
            if head[:4] != magic or not name.endswith(f".{tag}.pyc"):
                problems.append(f"{path}: not this runtime's bytecode")
            elif int.from_bytes(head[4:8], "little") != 0b01:  # hash-based, source not checked
                problems.append(f"{path}: not unchecked-hash")
            elif not os.path.exists(source):
                problems.append(f"{path}: no source beside it")
            else:
                with open(source, "rb") as fh:
                    if importlib.util.source_hash(fh.read()) != head[8:16]:
                        problems.append(f"{path}: compiled from a different source")
    return {"magic": magic.hex(), "cache_tag": tag, "checked": checked, "problems": problems}


def main() -> None:
    package, events_path = sys.argv[1], sys.argv[2]
    with open(events_path, encoding="utf-8") as fh:
        events = json.load(fh)
    sys.path.insert(0, package)

    import lambda_handler
    imported = time.perf_counter()
    import os
    if os.environ.get("PROBE_LOCAL_API"):   # the caller's simulator API, as if it ran in this process
        from skill import api_client
        api_client.allow_local_api(os.environ["PROBE_LOCAL_API"])
    results, latencies = [], []
    for event in events:
        began = time.perf_counter()
        try:
            results.append({"response": lambda_handler.handler(event, None)})
        except Exception as exc:  # reported, not raised: the caller decides
            results.append({"error": type(exc).__name__})
        latencies.append((time.perf_counter() - began) * 1000)

    # Everything below runs after the measurements, so it cannot slow them.
    import os
    import sysconfig
    loaded = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
    skill_modules = {}
    for entry in sorted(os.listdir(os.path.join(package, "skill"))):
        if entry.endswith(".py") and entry != "__init__.py":
            name = "skill." + entry[:-3]
            try:
                importlib.import_module(name)
                skill_modules[name] = "ok"
            except Exception as exc:
                skill_modules[name] = f"{type(exc).__name__}: {exc}"
    report = {
        "python": list(sys.version_info[:3]),
        "bytecode": check_bytecode(package),
        "executable": sys.executable,
        "flags": {"isolated": sys.flags.isolated, "no_site": sys.flags.no_site,
                  "ignore_environment": sys.flags.ignore_environment},
        "sys_path": sys.path,
        "stdlib": [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]],
        "module_files": {name: path for name, path in loaded.items() if path and name != "__main__"},
        "importable": {name: importlib.util.find_spec(name) is not None
                       for name in ("flask", "gunicorn", "cryptography", "werkzeug")},
        "skill_modules": skill_modules,
        "results": results,
        "import_ms": (imported - STARTED) * 1000,
        "first_response_ms": (imported - STARTED) * 1000 + (latencies[0] if latencies else 0.0),
        "latencies_ms": latencies,
    }
    json.dump(report, sys.stdout)


main()
