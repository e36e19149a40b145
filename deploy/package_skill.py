"""Assemble the skill package that ``ask deploy`` (ASK CLI v2) uploads.

``python -m deploy.package_skill`` (``make skill-package``) writes::

    build/ask-resources.json             points ask deploy at ./skill-package
    build/skill-package/skill.json       deploy/skill.json, filled in and checked
    build/skill-package/interactionModels/custom/<locale>.json   from interaction_model/
    build/skill-package/assets/images/{small,large}-icon.png      drawn by deploy.icons

The manifest source, ``deploy/skill.json``, names no fact that another file
owns: ``{skill_name}``, ``{invocation_name}``, ``{source}`` (the cited article)
and ``{emergency_number}`` are filled from ``skill/content.json`` (the last one
per locale). The endpoint is
added here too: ``--lambda-arn`` (the ``SkillFunctionArn`` output of the SAM
stack) or ``--https-url`` (a self-hosted ``make serve`` behind TLS). With
neither, the manifest has no endpoint: enough to create the skill and get its
id, which the SAM stack needs before there is a function ARN to point at.

Nothing is written unless the manifest passes ``validate`` (the structure and
limits ASK enforces, and the certification rules for example phrases) and the
committed interaction models match the content.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from skill.content import CONTENT, Content
from skill.reminders import SCOPE as REMINDERS_SCOPE
from deploy.models import MODELS_DIR, stale_models

from . import icons

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_SOURCE = Path(__file__).with_name("skill.json")
DEFAULT_OUT = ROOT / "build" / "skill-package"

# Limits and shapes from Amazon's skill manifest schema.
LOCALE_LIMITS = {"name": 50, "summary": 160, "description": 4000}
MAX_EXAMPLE_PHRASES = 3
MAX_KEYWORDS = 30
LOCALE_KEYS = {"name", "summary", "description", "examplePhrases", "keywords",
               "smallIconUri", "largeIconUri", "updatesDescription"}
REQUIRED_LOCALE_KEYS = LOCALE_KEYS - {"updatesDescription"}
PRIVACY_FLAGS = ("allowsPurchases", "usesPersonalInfo", "isChildDirected",
                 "isExportCompliant", "containsAds")
SSL_CERTIFICATE_TYPES = {"Trusted", "Wildcard", "SelfSigned"}
LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}"
                        r"(:[A-Za-z0-9_$-]{1,128})?$")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# Permission scopes the skill may declare: reminders, which skill.reminders asks for by voice.
KNOWN_PERMISSIONS = frozenset({REMINDERS_SCOPE})


class PackagingError(RuntimeError):
    """The package cannot be built as asked; the message says why."""


# --- manifest ---------------------------------------------------------------

def _fill(node: Any, values: Mapping[str, str]) -> Any:
    """Replace ``{name}`` tokens in every string of ``node`` from ``values``."""
    if isinstance(node, str):
        return PLACEHOLDER.sub(lambda m: values.get(m.group()[1:-1], m.group()), node)
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    return node


def lambda_endpoint(arn: str) -> dict[str, str]:
    if not LAMBDA_ARN.match(arn):
        raise PackagingError(f"not a Lambda function ARN: {arn!r}")
    return {"uri": arn}


def https_endpoint(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise PackagingError(f"the endpoint must be an https:// URL with a host: {url!r}")
    if parts.path in ("", "/"):
        raise PackagingError(f"give the full URL of the skill's POST route, e.g. https://{parts.netloc}/alexa")
    if parts.query or parts.fragment:
        raise PackagingError(f"the endpoint URL takes no query or fragment: {url!r}")
    # Alexa calls only port 443 with a certificate from a trusted authority.
    if parts.port not in (None, 443):
        raise PackagingError(f"Alexa only calls port 443: {url!r}")
    return {"uri": url, "sslCertificateType": "Trusted"}


NOT_RECORDED = "not yet recorded"


def permission_recorded(content: Content = CONTENT) -> bool:
    """True only when the content file names who granted permission for the source, and when."""
    permission = content.source.get("permission") or {}
    return bool(permission.get("granted_by") and permission.get("date")) and permission.get("status") != NOT_RECORDED


def source_statement(content: Content = CONTENT) -> str:
    """What the reviewer is told about the third-party source and the permission to use it."""
    article = content.source
    permission = article.get("permission") or {}
    status = (f"granted by {permission['granted_by']} on {permission['date']}"
              + (f" ({permission['evidence']})" if permission.get("evidence") else "")
              if permission_recorded(content) else NOT_RECORDED)
    return (f'Third-party content: every fact comes from "{article["title"]}" by {article["author"]} '
            f'({article["date"]}), retold in our own words and cited on every card. '
            f"Permission to use this content and the author's name: {status}.")


def build_manifest(content: Content = CONTENT, *, lambda_arn: str | None = None,
                   https_url: str | None = None, source: Path = MANIFEST_SOURCE) -> dict[str, Any]:
    """The manifest from ``deploy/skill.json``, filled from the content, with the endpoint."""
    if lambda_arn and https_url:
        raise PackagingError("give either a Lambda ARN or an HTTPS URL, not both")
    raw = json.loads(source.read_text(encoding="utf-8"))
    article = content.source
    shared = {"skill_name": content.skill_name, "invocation_name": content.invocation_name,
              "source": f'"{article["title"]}" ({article["date"]})'}
    manifest = copy.deepcopy(raw)
    body = manifest["manifest"]
    locales = body["publishingInformation"]["locales"]
    for locale, block in locales.items():
        info = content.locales.get(locale)
        number = {"emergency_number": info.emergency_number} if info else {}
        locales[locale] = _fill(block, {**shared, **number})
    manifest = _fill(manifest, shared)
    publishing = manifest["manifest"]["publishingInformation"]
    publishing["testingInstructions"] = f'{publishing["testingInstructions"]} {source_statement(content)}'
    apis = manifest["manifest"]["apis"]
    if lambda_arn or https_url:
        endpoint = lambda_endpoint(lambda_arn) if lambda_arn else https_endpoint(https_url)
        apis["custom"] = {"endpoint": endpoint, **apis["custom"]}
    return manifest


# --- checks -----------------------------------------------------------------

def slot_free_samples(model: Mapping[str, Any]) -> set[str]:
    """Every sample utterance of a model that has no ``{slot}`` in it."""
    intents = model["interactionModel"]["languageModel"]["intents"]
    return {s for intent in intents for s in intent.get("samples", []) if "{" not in s}


def phrase_problem(phrase: str, invocation: str, samples: set[str]) -> str | None:
    """Why ``phrase`` breaks the certification rule for example phrases, or None."""
    if phrase == f"Alexa, open {invocation}":
        return None
    prefix = f"Alexa, ask {invocation} "
    if not phrase.startswith(prefix):
        return f"must be 'Alexa, open {invocation}' or 'Alexa, ask {invocation} <sample>'"
    if phrase[len(prefix):] not in samples:
        return f"{phrase[len(prefix):]!r} is not a sample utterance (without slots) of the model"
    return None


def _strings(node: Any, path: str = "manifest"):
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _strings(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")


def _check_locale(locale: str, block: Any, model: Mapping[str, Any] | None) -> list[str]:
    where = f"publishingInformation.locales.{locale}"
    if not isinstance(block, dict):
        return [f"{where}: must be an object"]
    problems = [f"{where}: missing {key}" for key in sorted(REQUIRED_LOCALE_KEYS - block.keys())]
    problems += [f"{where}: unknown key {key}" for key in sorted(block.keys() - LOCALE_KEYS)]
    for key, limit in LOCALE_LIMITS.items():
        value = block.get(key)
        if key in block and not (isinstance(value, str) and value.strip()):
            problems.append(f"{where}.{key}: must be a non-empty string")
        elif isinstance(value, str) and len(value) > limit:
            problems.append(f"{where}.{key}: {len(value)} characters, the limit is {limit}")
    for key in ("smallIconUri", "largeIconUri"):
        value = block.get(key)
        if key in block and not (isinstance(value, str) and value.startswith(("file://", "https://"))):
            problems.append(f"{where}.{key}: must be a file:// or https:// URI")
    phrases = block.get("examplePhrases")
    if "examplePhrases" in block:
        if not (isinstance(phrases, list) and phrases and all(isinstance(p, str) for p in phrases)):
            problems.append(f"{where}.examplePhrases: must be a non-empty list of strings")
            phrases = []
        elif len(phrases) > MAX_EXAMPLE_PHRASES:
            problems.append(f"{where}.examplePhrases: {len(phrases)} phrases, the limit is {MAX_EXAMPLE_PHRASES}")
        if model is not None:
            invocation = model["interactionModel"]["languageModel"]["invocationName"]
            samples = slot_free_samples(model)
            for phrase in phrases:
                problem = phrase_problem(phrase, invocation, samples)
                if problem:
                    problems.append(f"{where}.examplePhrases: {phrase!r}: {problem}")
    keywords = block.get("keywords")
    if "keywords" in block:
        if not (isinstance(keywords, list) and all(isinstance(k, str) and k.strip() for k in keywords)):
            problems.append(f"{where}.keywords: must be a list of non-empty strings")
        elif len(keywords) > MAX_KEYWORDS:
            problems.append(f"{where}.keywords: {len(keywords)} keywords, the limit is {MAX_KEYWORDS}")
    return problems


def _check_endpoint(endpoint: Any) -> list[str]:
    if not isinstance(endpoint, dict) or not isinstance(endpoint.get("uri"), str):
        return ["apis.custom.endpoint: must be an object with a uri"]
    uri = endpoint["uri"]
    if uri.startswith("arn:"):
        if not LAMBDA_ARN.match(uri):
            return [f"apis.custom.endpoint.uri: not a Lambda function ARN: {uri}"]
        if "sslCertificateType" in endpoint:
            return ["apis.custom.endpoint: sslCertificateType is only for HTTPS endpoints"]
        return []
    if not uri.startswith("https://"):
        return [f"apis.custom.endpoint.uri: must be a Lambda ARN or an https:// URL: {uri}"]
    if endpoint.get("sslCertificateType") not in SSL_CERTIFICATE_TYPES:
        return [f"apis.custom.endpoint.sslCertificateType: one of {sorted(SSL_CERTIFICATE_TYPES)}"]
    return []


def validate(manifest: Any, models: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every way ``manifest`` breaks ASK's manifest schema or our rules; empty when fine.

    ``models`` maps each locale to its interaction model: the manifest and the
    models must cover the same locales, and example phrases must use the
    model's invocation name and samples.
    """
    body = manifest.get("manifest") if isinstance(manifest, dict) else None
    if not isinstance(body, dict):
        return ["the manifest must be an object with a 'manifest' object"]
    problems = [f"manifest: missing {key}" for key in
                ("manifestVersion", "publishingInformation", "privacyAndCompliance", "apis")
                if key not in body]
    if body.get("manifestVersion", "1.0") != "1.0":
        problems.append("manifest.manifestVersion: must be '1.0'")

    publishing = body.get("publishingInformation", {})
    locales = publishing.get("locales") if isinstance(publishing, dict) else None
    if not isinstance(locales, dict) or not locales:
        problems.append("publishingInformation.locales: must be a non-empty object")
        locales = {}
    for locale in sorted(locales.keys() - models.keys()):
        problems.append(f"publishingInformation.locales.{locale}: no interaction model for it")
    for locale in sorted(models.keys() - locales.keys()):
        problems.append(f"publishingInformation.locales: interaction model {locale} has no locale entry")
    for locale, block in locales.items():
        problems += _check_locale(locale, block, models.get(locale))
    if isinstance(publishing, dict):
        if not isinstance(publishing.get("category"), str):
            problems.append("publishingInformation.category: required")
        if publishing.get("isAvailableWorldwide") is False:
            countries = publishing.get("distributionCountries")
            if not (isinstance(countries, list) and countries
                    and all(isinstance(c, str) and re.fullmatch(r"[A-Z]{2}", c) for c in countries)):
                problems.append("publishingInformation.distributionCountries: ISO 3166 alpha-2 codes "
                                "are required when the skill is not available worldwide")
        if publishing.get("distributionMode", "PUBLIC") not in ("PUBLIC", "PRIVATE"):
            problems.append("publishingInformation.distributionMode: PUBLIC or PRIVATE")

    privacy = body.get("privacyAndCompliance", {})
    for flag in PRIVACY_FLAGS:
        if not isinstance(privacy, dict) or not isinstance(privacy.get(flag), bool):
            problems.append(f"privacyAndCompliance.{flag}: must be true or false")

    permissions = body.get("permissions", [])
    if not (isinstance(permissions, list) and all(
            isinstance(p, dict) and set(p) == {"name"} and p["name"] in KNOWN_PERMISSIONS for p in permissions)):
        problems.append(f"manifest.permissions: a list of {{\"name\": ...}} from {sorted(KNOWN_PERMISSIONS)}")

    apis = body.get("apis", {})
    custom = apis.get("custom") if isinstance(apis, dict) else None
    if not isinstance(custom, dict):
        problems.append("apis.custom: required for a custom skill")
    else:
        if "endpoint" in custom:
            problems += _check_endpoint(custom["endpoint"])
        interfaces = custom.get("interfaces", [])
        if not (isinstance(interfaces, list)
                and all(isinstance(i, dict) and isinstance(i.get("type"), str) for i in interfaces)):
            problems.append("apis.custom.interfaces: must be a list of {\"type\": ...} objects")

    problems += [f"{path}: unfilled placeholder {m.group()}"
                 for path, text in _strings(manifest) for m in PLACEHOLDER.finditer(text)]
    return problems


# --- the package --------------------------------------------------------------

def load_models(directory: Path = MODELS_DIR) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(directory.glob("*.json"))}


def assemble(out: Path = DEFAULT_OUT, *, lambda_arn: str | None = None, https_url: str | None = None,
             content: Content = CONTENT, models_dir: Path = MODELS_DIR) -> dict[str, Any]:
    """Write the skill package to ``out`` (replacing it) and ``ask-resources.json`` beside it.

    Only ``out`` itself is replaced: ASK CLI's state (``.ask/ask-states.json``,
    which remembers the skill id) next to it survives a rebuild.
    """
    stale = stale_models(content, models_dir)
    if stale:
        raise PackagingError(f"interaction models out of date ({', '.join(stale)}); run `make models`")
    models = load_models(models_dir)
    manifest = build_manifest(content, lambda_arn=lambda_arn, https_url=https_url)
    problems = validate(manifest, models)
    if problems:
        raise PackagingError("the manifest is not valid:\n  " + "\n  ".join(problems))

    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (staging / "skill.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        custom = staging / "interactionModels" / "custom"
        custom.mkdir(parents=True)
        for locale in sorted(models):
            shutil.copyfile(models_dir / f"{locale}.json", custom / f"{locale}.json")
        icons.write_icons(staging / "assets" / "images", content.skill_name)
        staging.chmod(0o755)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    resources = {"askcliResourcesVersion": "2020-03-31",
                 "profiles": {"default": {"skillMetadata": {"src": f"./{out.name}"}}}}
    (out.parent / "ask-resources.json").write_text(json.dumps(resources, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="package directory (default: build/skill-package)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--lambda-arn", help="endpoint: the SAM stack's SkillFunctionArn output")
    where.add_argument("--https-url", help="endpoint: https://<host>/alexa of a self-hosted `make serve`")
    args = parser.parse_args(argv)
    try:
        manifest = assemble(args.out, lambda_arn=args.lambda_arn, https_url=args.https_url)
    except PackagingError as exc:
        print(f"skill-package: {exc}", file=sys.stderr)
        return 1
    if not permission_recorded():
        print("skill-package: WARNING: NOT READY FOR CERTIFICATION: no permission to use the source article "
              "and its author's name is recorded (skill/content.json, source.permission). Amazon asks for proof; "
              "record who granted it and when before you submit.", file=sys.stderr)
    endpoint = manifest["manifest"]["apis"]["custom"].get("endpoint")
    print(f"wrote {args.out} for {', '.join(manifest['manifest']['publishingInformation']['locales'])}")
    print(f"endpoint: {endpoint['uri']}" if endpoint else
          "endpoint: none yet (create the skill, deploy the Lambda, then rebuild with --lambda-arn)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
