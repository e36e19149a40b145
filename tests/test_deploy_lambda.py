"""AWS Lambda: the SAM template (cfn-lint, offline) and dist/lambda.zip (make package).

The zip is built once per test run into a temporary directory (conftest's lambda_zip), unzipped, and run by a fresh
interpreter that can see nothing but the standard library and the unzipped
files, the way Lambda's python3.12 runtime sees /var/task. Building needs a
Python 3.12 (see deploy/package_lambda.py): the zip ships bytecode compiled for it.
"""
from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

import lambda_handler
from deploy import check_lambda, package_lambda
from simulator.alexa_api import AlexaApi, user_key
from skill.content import CONTENT
from skill.speech import plain_text
from testkit import envelopes as E


ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
MAX_ZIP_BYTES = 10 * 1024 * 1024
WEBHOOK_ONLY = ("flask", "werkzeug", "gunicorn", "cryptography", "jinja2", "click", "itsdangerous",
                "gevent", "greenlet")


# --- the SAM template -----------------------------------------------------------

class CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags, read as {"Ref": ...} / {"Fn::X": ...}."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template():
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=CloudFormationLoader)


@pytest.fixture(scope="module")
def cfn_lint(tmp_path_factory) -> dict[str, list[str]]:
    """cfn-lint's findings for the template and for a broken copy, from one run (it takes seconds to start).

    Parseable format: one line per finding, starting with the file's path.
    """
    broken = tmp_path_factory.mktemp("cfn") / "template.yaml"
    broken.write_text(TEMPLATE.read_text(encoding="utf-8").replace("MemorySize: 256", "MemorySize: 99999"))
    command = Path(sys.executable).with_name("cfn-lint")   # the venv's, pinned in requirements-dev.txt
    result = subprocess.run([str(command), "--format", "parseable", "--", str(TEMPLATE), str(broken)],
                            capture_output=True, text=True, timeout=300)
    assert result.stderr.strip() == "" and result.returncode != 0, result.stderr
    lines = result.stdout.splitlines()
    return {name: [line for line in lines if line.startswith(f"{path}:")]
            for name, path in (("template", TEMPLATE), ("broken", broken))}


def test_cfn_lint_finds_nothing(cfn_lint):
    assert cfn_lint["template"] == []


def test_cfn_lint_would_catch_a_broken_template(cfn_lint):
    assert any(":E3034:" in line for line in cfn_lint["broken"]), cfn_lint["broken"]


def test_function(template):
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    function = template["Resources"]["SkillFunction"]
    assert function["Type"] == "AWS::Serverless::Function"
    props = function["Properties"]
    assert props["Runtime"] == f"python{package_lambda.PYTHON_VERSION}"
    assert props["Architectures"] == ["x86_64"] and "x86_64" in package_lambda.PLATFORM
    assert props["Handler"] == "lambda_handler.handler" and callable(lambda_handler.handler)
    assert (props["MemorySize"], props["Timeout"]) == (256, 7)
    assert props["CodeUri"] == package_lambda.DEFAULT_OUT.relative_to(ROOT).as_posix()
    assert props["Environment"]["Variables"]["SKILL_ID"] == {"Ref": "SkillId"}


def test_only_our_skill_may_invoke_it(template):
    events = template["Resources"]["SkillFunction"]["Properties"]["Events"]
    assert [e["Type"] for e in events.values()] == ["AlexaSkill"]
    assert next(iter(events.values()))["Properties"]["SkillId"] == {"Ref": "SkillId"}
    parameter = template["Parameters"]["SkillId"]
    assert "Default" not in parameter
    assert re.fullmatch(parameter["AllowedPattern"], E.APP_ID)
    assert not re.fullmatch(parameter["AllowedPattern"], "arn:aws:lambda:us-east-1:1:function:x")


def test_log_group_belongs_to_the_function_and_expires(template):
    resources = template["Resources"]
    group = next(r for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup")
    function = resources["SkillFunction"]
    assert group["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/" + function["Properties"]["FunctionName"]["Fn::Sub"]}
    retention = group["Properties"]["RetentionInDays"]
    assert template["Parameters"][retention["Ref"]]["Default"] == 30
    assert function["DependsOn"] == "SkillLogGroup"


def test_output_is_the_function_arn(template):
    outputs = template["Outputs"]
    assert outputs["SkillFunctionArn"]["Value"] == {"Fn::GetAtt": ["SkillFunction", "Arn"]}


# --- requirements-lambda.txt ------------------------------------------------------

def test_lambda_pins_agree_with_the_runtime_requirements():
    """A package pinned in both requirements files has one version, the one the tests run."""
    pins = package_lambda.pinned()
    runtime = package_lambda.pinned(ROOT / "requirements.txt")
    assert {"ask-sdk-core", "ask-sdk-model", "ask-sdk-runtime"} <= set(pins)
    for name in sorted(set(pins) & set(runtime)):
        assert pins[name] == runtime[name], name
        assert importlib.metadata.version(name) == pins[name], name
    assert not set(pins) & set(WEBHOOK_ONLY)


# --- the zip ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def task_dir(lambda_zip, tmp_path_factory):
    return check_lambda.extract(lambda_zip, tmp_path_factory.mktemp("var-task"))


def test_two_builds_are_byte_identical(lambda_zip, tmp_path):
    """Each build compiles in its own temporary directory, so this also proves no path leaks into the bytecode."""
    again = tmp_path / "lambda.zip"
    package_lambda.build(again)
    assert again.read_bytes() == lambda_zip.read_bytes()


def test_every_module_ships_with_its_bytecode(lambda_zip):
    with zipfile.ZipFile(lambda_zip) as archive:
        names = set(archive.namelist())
        heads = {n: archive.read(n)[:8] for n in names if n.endswith(".pyc")}
    sources = {n for n in names if n.endswith(".py")}
    tag = package_lambda.CACHE_TAG
    expected = set()
    for source in sources:
        folder, _, module = source.rpartition("/")
        expected.add(f"{folder}/__pycache__/{module[:-3]}.{tag}.pyc".lstrip("/"))
    assert set(heads) == expected and len(sources) > 800
    assert {head for head in heads.values()} == {package_lambda.PYC_MAGIC + b"\x01\x00\x00\x00"}


def test_bytecode_for_another_python_is_refused(tmp_path):
    out = tmp_path / "lambda.zip"
    with pytest.raises(package_lambda.PackagingError, match=r"not CPython 3\.12 bytecode"):
        package_lambda.build(out, python=sys.executable)   # the 3.11 running the tests
    assert not out.exists()


def test_no_lambda_python_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("LAMBDA_PYTHON", raising=False)
    with pytest.raises(package_lambda.PackagingError, match=r"needs CPython 2\.9 .*pyenv install 2\.9"):
        package_lambda.find_python("2.9")
    monkeypatch.setenv("LAMBDA_PYTHON", sys.executable)
    with pytest.raises(package_lambda.PackagingError, match=r"LAMBDA_PYTHON=.* is not a working CPython 3\.12"):
        package_lambda.find_python()


@pytest.mark.parametrize("chosen, why", [
    ("{tmp}/nope/python3.12", "no such file"),
    ("no-such-python3.12", "no command 'no-such-python3.12' on PATH"),
    ("{tmp}", "not an executable file"),
    ("{false}", "it ran but did not report a Python version"),
    ("{this}", "it is cpython {this_version}"),
])
def test_a_wrong_lambda_python_says_what_is_wrong_with_it(monkeypatch, tmp_path, chosen, why):
    """`LAMBDA_PYTHON=/nope/python3.12 make package` says "no such file", not "reports nothing"."""
    this_version = "%d.%d" % sys.version_info[:2]
    values = {"tmp": tmp_path, "false": shutil.which("false") or "/bin/false", "this": sys.executable,
              "this_version": this_version}
    monkeypatch.setenv("LAMBDA_PYTHON", chosen.format(**values))
    with pytest.raises(package_lambda.PackagingError) as error:
        package_lambda.find_python("2.9")
    assert f"is not a working CPython 2.9 ({why.format(**values)});" in str(error.value)


def test_entries_are_normalised(lambda_zip):
    with zipfile.ZipFile(lambda_zip) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names) and len(names) == len(set(names))
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
        assert info.external_attr >> 16 == 0o100644, info.filename
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert not info.filename.endswith(".pyo")
        assert not info.filename.startswith("bin/")
        assert not re.search(r"\.dist-info/(RECORD|INSTALLER|REQUESTED|direct_url\.json)$", info.filename)


def test_ships_exactly_the_pinned_runtime(lambda_zip):
    with zipfile.ZipFile(lambda_zip) as archive:
        names = archive.namelist()
    top = {name.split("/", 1)[0] for name in names}
    dists = {}
    for entry in (t.removesuffix(".dist-info") for t in top if t.endswith(".dist-info")):
        name, version = entry.rsplit("-", 1)
        dists[package_lambda.canonical(name)] = version
    assert dists == package_lambda.pinned()
    assert not {t.lower() for t in top} & set(WEBHOOK_ONLY)
    assert "lambda_handler.py" in names and "skill/content.json" in names


def test_ships_the_whole_skill_package(lambda_zip):
    with zipfile.ZipFile(lambda_zip) as archive:
        shipped = {n for n in archive.namelist() if n.startswith("skill/") and "/__pycache__/" not in n}
    in_repo = {f"skill/{p.name}" for p in (ROOT / "skill").iterdir() if p.is_file() and p.suffix != ".pyc"}
    assert shipped == in_repo


def test_a_dependency_left_unpinned_is_refused(tmp_path):
    lines = package_lambda.REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    requirements = tmp_path / "requirements-lambda.txt"
    requirements.write_text("\n".join(line for line in lines if not line.startswith("six==")) + "\n")
    with pytest.raises(package_lambda.PackagingError, match=r"not pinned .*six=="):
        package_lambda.build(tmp_path / "lambda.zip", requirements)
    assert not (tmp_path / "lambda.zip").exists()


def test_a_loose_requirement_is_refused(tmp_path):
    requirements = tmp_path / "requirements-lambda.txt"
    requirements.write_text("ask-sdk-core>=1.19\n")
    with pytest.raises(package_lambda.PackagingError, match="name==version"):
        package_lambda.pinned(requirements)


def test_zip_is_small(lambda_zip):
    assert lambda_zip.stat().st_size < MAX_ZIP_BYTES


# --- running it as Lambda would ------------------------------------------------------

def launch_and_question() -> list[dict]:
    return [E.envelope(E.launch("en-GB")), E.envelope(E.intent("PsaTestIntent", locale="en-GB"))]


@pytest.fixture(scope="session")
def isolated(task_dir):
    events = [*launch_and_question(), E.envelope(E.launch(), app_id="amzn1.ask.skill.someone-else")]
    return events, check_lambda.probe(task_dir, events).report


def test_the_probe_saw_only_the_package_and_the_standard_library(isolated, task_dir):
    _, report = isolated
    assert report["flags"] == {"isolated": 1, "no_site": 1, "ignore_environment": 1}
    stdlib = tuple(report["stdlib"])
    task = str(task_dir)
    for entry in report["sys_path"]:
        assert entry == task or entry.startswith(stdlib) or entry.endswith(".zip"), entry
        assert "site-packages" not in entry and not entry.startswith(str(ROOT)), entry
    for name, path in report["module_files"].items():
        assert path.startswith((task, *stdlib)), f"{name} came from {path}"
    assert report["module_files"]["lambda_handler"] == str(task_dir / "lambda_handler.py")
    assert not any(report["importable"].values()), report["importable"]


def test_the_bytecode_is_the_runtimes_and_matches_every_source(isolated, lambda_zip):
    """The probe checked every .pyc with the runtime's own magic number and source hashes."""
    _, report = isolated
    assert report["python"][:2] == [3, 12], "the probe must run Lambda's Python to check its bytecode"
    bytecode = report["bytecode"]
    assert bytecode["problems"] == [] and bytecode["cache_tag"] == package_lambda.CACHE_TAG
    with zipfile.ZipFile(lambda_zip) as archive:
        pycs = [n for n in archive.namelist() if n.endswith(".pyc")]
        assert bytecode["checked"] == len(pycs)
        assert {archive.read(n)[:4].hex() for n in pycs} == {bytecode["magic"]}


def test_the_runtime_loads_the_bytecode_without_reading_the_source(task_dir, tmp_path):
    """Unchecked-hash bytecode is used as shipped: a broken source beside it changes nothing."""
    import shutil
    copy = tmp_path / "task"
    shutil.copytree(task_dir, copy)
    (copy / "skill" / "speech.py").write_text("raise ImportError('the source was compiled')\n")
    run = check_lambda.probe(copy, launch_and_question()[:1])
    assert "error" not in run.report["results"][0], run.report["results"]
    assert run.report["skill_modules"]["skill.speech"] == "ok"


def test_every_shipped_skill_module_imports_on_its_own(isolated):
    _, report = isolated
    assert report["skill_modules"] and set(report["skill_modules"].values()) == {"ok"}, report["skill_modules"]


def test_the_package_answers_like_the_repository(isolated):
    events, report = isolated
    launch, question, foreign = report["results"]
    # The same envelopes through the repository's own handler give the same responses
    # (but for the SDK's user agent, which names the Python version).
    for result, event in ((launch, events[0]), (question, events[1])):
        here = lambda_handler.handler(event, None)
        assert result["response"].pop("userAgent").startswith("ask-python/")
        here.pop("userAgent")
        assert result["response"] == here

    welcome = launch["response"]["response"]
    expected = CONTENT.prompts["welcome"].format(question=CONTENT.prompts["questions"][0])
    assert plain_text(welcome["outputSpeech"]["ssml"]) == expected
    assert welcome["shouldEndSession"] is False

    topic = CONTENT.topic_by_intent["PsaTestIntent"]
    answer = question["response"]["response"]
    assert plain_text(answer["outputSpeech"]["ssml"]).startswith(topic.answer)
    assert answer["card"]["title"] == topic.title
    assert answer["shouldEndSession"] is False
    assert question["response"]["sessionAttributes"]

    # SKILL_ID is set in the probe's environment, as the template sets it.
    assert foreign == {"error": "WrongApplication"}


def test_check_lambda_reports_a_cold_start(lambda_zip, capsys):
    """`python -m deploy.check_lambda` runs the package in fresh processes and prints the numbers.

    How fast is bench's business (`make bench`); here only that the command works.
    """
    assert check_lambda.main(["--zip", str(lambda_zip), "--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "median of 1 cold starts" in out and "import + first response:" in out and "python: 3.12" in out


def test_the_package_reaches_alexas_api_over_http(task_dir):
    """The zip carries the API client's HTTP stack: run in isolation, it calls a loopback Alexa API.

    A "yes" to the reminder offer with the permission granted makes the packaged
    skill read the time zone and create the reminder on the simulator's local
    Alexa API, with nothing but the package and the standard library to import.
    """
    key = user_key(E.USER_ID)
    with AlexaApi(time_zone="America/Chicago") as api:
        event = E.envelope(E.intent("AMAZON.YesIntent"), attributes={"offer": "reminder"}, new=False)
        E.point_at_api(event, api.endpoint, api.token(key, True), granted=True)
        run = check_lambda.probe(task_dir, [event], env={"PROBE_LOCAL_API": api.endpoint})
        created = api.take(key)
        calls = [kind for _, kind, _ in api.calls]
    (result,) = run.report["results"]
    assert "at 9 in the morning" in plain_text(result["response"]["response"]["outputSpeech"]["ssml"])
    assert calls == ["time_zone", "reminder"]
    assert [(r["time_zone"], r["scheduled"][11:]) for r in created] == [("America/Chicago", "09:00:00")]
    for module in ("requests", "urllib3", "idna", "certifi", "charset_normalizer"):
        assert run.report["module_files"][module].startswith(str(task_dir)), module


def test_requests_stays_off_the_cold_path(isolated):
    """Answers that call no Alexa API never import requests (about 0.1 s of a cold start)."""
    _, report = isolated
    assert "requests" not in report["module_files"] and "urllib3" not in report["module_files"]


def test_cold_start(task_dir, record_property, capsys):
    """Median of three fresh processes; the numbers go to the test report (and stdout with -s)."""
    numbers = check_lambda.cold_start(task_dir, runs=3)
    for key, value in vars(numbers).items():
        record_property(key, value)
    with capsys.disabled():
        print(f"\n[lambda cold start] python {numbers.python}: import {numbers.import_ms:.0f} ms, "
              f"import + first response {numbers.first_response_ms:.0f} ms, "
              f"process {numbers.process_ms:.0f} ms, warm {numbers.warm_ms:.1f} ms")
    # How fast is `make bench`'s business; here only that the numbers are whole and consistent.
    assert 0 < numbers.import_ms <= numbers.first_response_ms <= numbers.process_ms
