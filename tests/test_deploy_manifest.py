"""The skill manifest and the package `ask deploy` uploads (deploy/skill.json, make skill-package).

The checks here are written out on their own rather than trusting
``deploy.package_skill.validate``; the validator is then tested separately,
by breaking the manifest one rule at a time.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from deploy import package_skill as P
from skill.content import CONTENT
from deploy.models import MODELS_DIR

ROOT = Path(__file__).resolve().parent.parent
# Written here, not read from content.json: this is what the content must say.
EMERGENCY = {"en-US": "911", "en-CA": "911", "en-GB": "999", "en-AU": "000", "en-IN": "112"}
COUNTRY = {"en-US": "US", "en-CA": "CA", "en-GB": "GB", "en-AU": "AU", "en-IN": "IN"}
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:back-pain-guide-skill"
HTTPS_URL = "https://skill.example.com/alexa"


@pytest.fixture(scope="module")
def manifest():
    return P.build_manifest()


@pytest.fixture(scope="module")
def models():
    return P.load_models()


def locale_blocks(manifest):
    return manifest["manifest"]["publishingInformation"]["locales"]


def squash(text: str) -> str:
    return " ".join(text.split())


# --- locales ----------------------------------------------------------------

def test_every_locale_has_a_model_and_every_model_a_locale(manifest):
    model_files = {p.stem for p in MODELS_DIR.glob("*.json")}
    assert set(locale_blocks(manifest)) == model_files == set(CONTENT.locales) == set(EMERGENCY)


def test_distribution_is_the_countries_whose_emergency_number_we_know(manifest):
    publishing = manifest["manifest"]["publishingInformation"]
    assert publishing["isAvailableWorldwide"] is False
    assert sorted(publishing["distributionCountries"]) == sorted(set(COUNTRY.values()))


# --- example phrases ----------------------------------------------------------

@pytest.mark.parametrize("locale", sorted(EMERGENCY))
def test_example_phrases_follow_the_certification_rule(manifest, models, locale):
    language_model = models[locale]["interactionModel"]["languageModel"]
    invocation = language_model["invocationName"]
    assert invocation == CONTENT.invocation_name
    samples = {s for intent in language_model["intents"] for s in intent["samples"] if "{" not in s}
    phrases = locale_blocks(manifest)[locale]["examplePhrases"]
    assert 1 <= len(phrases) <= 3
    assert phrases[0] == f"Alexa, open {invocation}"
    for phrase in phrases:
        if phrase == f"Alexa, open {invocation}":
            continue
        match = re.fullmatch(rf"Alexa, ask {re.escape(invocation)} (.+)", phrase)
        assert match, phrase
        assert match[1] in samples, f"{match[1]!r} is not a slot-free sample of {locale}"


# --- names and the disclaimer -------------------------------------------------

@pytest.mark.parametrize("locale", sorted(EMERGENCY))
def test_name_is_the_skill_name(manifest, locale):
    assert locale_blocks(manifest)[locale]["name"] == CONTENT.skill_name == "Back Pain Guide"


@pytest.mark.parametrize("locale", sorted(EMERGENCY))
def test_description_carries_the_medical_disclaimer(manifest, locale):
    description = squash(locale_blocks(manifest)[locale]["description"])
    number = EMERGENCY[locale]
    assert CONTENT.locales[locale].emergency_number == number
    for words in ("for information only",
                  "not a substitute for professional medical advice, diagnosis or treatment",
                  "Call your doctor",
                  f"In an emergency, call your local emergency number ({number})"):
        assert words in description, words
    for other in set(EMERGENCY.values()) - {number}:
        assert not re.search(rf"\b{other}\b", description), f"{locale} mentions {other}"


def test_summary_says_it_is_not_medical_advice(manifest):
    for block in locale_blocks(manifest).values():
        assert "not medical advice" in block["summary"]


# --- structure as ASK expects it ------------------------------------------------

def test_structure_and_limits(manifest):
    body = manifest["manifest"]
    assert body["manifestVersion"] == "1.0"
    assert body["publishingInformation"]["category"] == "HEALTH_AND_FITNESS"
    for locale, block in locale_blocks(manifest).items():
        assert set(block) >= {"name", "summary", "description", "examplePhrases", "keywords",
                              "smallIconUri", "largeIconUri"}, locale
        assert 0 < len(block["name"]) <= 50
        assert 0 < len(block["summary"]) <= 160
        assert 0 < len(block["description"]) <= 4000
        assert len(block["examplePhrases"]) <= 3
        assert 0 < len(block["keywords"]) <= 30
        assert len(set(block["keywords"])) == len(block["keywords"])
        assert block["smallIconUri"] == "file://assets/images/small-icon.png"
        assert block["largeIconUri"] == "file://assets/images/large-icon.png"
    assert body["privacyAndCompliance"] == {
        "allowsPurchases": False, "usesPersonalInfo": False, "isChildDirected": False,
        "isExportCompliant": True, "containsAds": False}
    assert body["apis"]["custom"]["interfaces"] == [{"type": "CAN_FULFILL_INTENT_REQUEST"}]
    assert body["permissions"] == [{"name": "alexa::alerts:reminders:skill:readwrite"}]
    assert not re.search(r"\{[a-z_]+\}", json.dumps(manifest)), "a placeholder was left unfilled"


@pytest.mark.parametrize("endpoint", [{}, {"lambda_arn": LAMBDA_ARN}, {"https_url": HTTPS_URL}],
                         ids=["no-endpoint", "lambda", "https"])
def test_the_validator_passes_the_manifest(models, endpoint):
    assert P.validate(P.build_manifest(**endpoint), models) == []


def test_endpoints():
    custom = P.build_manifest(lambda_arn=LAMBDA_ARN)["manifest"]["apis"]["custom"]
    assert custom["endpoint"] == {"uri": LAMBDA_ARN}
    custom = P.build_manifest(https_url=HTTPS_URL)["manifest"]["apis"]["custom"]
    assert custom["endpoint"] == {"uri": HTTPS_URL, "sslCertificateType": "Trusted"}
    assert "endpoint" not in P.build_manifest()["manifest"]["apis"]["custom"]


@pytest.mark.parametrize("kwargs", [
    {"lambda_arn": "arn:aws:lambda:us-east-1:123:function:x"},        # account id too short
    {"lambda_arn": "arn:aws:s3:::bucket"},
    {"lambda_arn": "back-pain-guide-skill"},
    {"https_url": "http://skill.example.com/alexa"},
    {"https_url": "https://skill.example.com"},
    {"https_url": "https://skill.example.com:8443/alexa"},
    {"https_url": "https://user:pw@skill.example.com/alexa"},
    {"https_url": "https://skill.example.com/alexa?x=1"},
    {"lambda_arn": LAMBDA_ARN, "https_url": HTTPS_URL},
])
def test_bad_endpoints_are_refused(kwargs):
    with pytest.raises(P.PackagingError):
        P.build_manifest(**kwargs)


def _locale(m, locale="en-GB"):
    return m["manifest"]["publishingInformation"]["locales"][locale]


BREAKAGES = {
    "name": (lambda m: _locale(m).update(name="x" * 51), "en-GB.name"),
    "summary": (lambda m: _locale(m).update(summary="x" * 161), "en-GB.summary"),
    "description": (lambda m: _locale(m).update(description="x" * 4001), "en-GB.description"),
    "empty-name": (lambda m: _locale(m).update(name=" "), "en-GB.name"),
    "four-phrases": (lambda m: _locale(m)["examplePhrases"].append("Alexa, open back pain guide"),
                     "examplePhrases: 4 phrases"),
    "not-a-sample": (lambda m: _locale(m)["examplePhrases"].__setitem__(
                         1, "Alexa, ask back pain guide is my back broken"),
                     "not a sample"),
    "slot-sample": (lambda m: _locale(m)["examplePhrases"].__setitem__(1, "Alexa, ask back pain guide what is {term}"),
                    "not a sample"),
    "launch-word": (lambda m: _locale(m)["examplePhrases"].__setitem__(0, "Alexa, launch back pain guide"),
                    "must be 'Alexa, open"),
    "wrong-invocation": (lambda m: _locale(m)["examplePhrases"].__setitem__(0, "Alexa, open back pain helper"),
                         "must be 'Alexa, open"),
    "keywords": (lambda m: _locale(m).update(keywords=[f"k{i}" for i in range(31)]), "31 keywords"),
    "missing-key": (lambda m: _locale(m).pop("summary"), "missing summary"),
    "typo-key": (lambda m: _locale(m).update(examplePhrase=[]), "unknown key examplePhrase"),
    "icon": (lambda m: _locale(m).update(smallIconUri="assets/images/small-icon.png"), "smallIconUri"),
    "locale-without-model": (lambda m: m["manifest"]["publishingInformation"]["locales"].update(
        {"en-NZ": copy.deepcopy(_locale(m))}), "en-NZ: no interaction model"),
    "model-without-locale": (lambda m: m["manifest"]["publishingInformation"]["locales"].pop("en-IN"),
                             "interaction model en-IN has no locale entry"),
    "privacy": (lambda m: m["manifest"]["privacyAndCompliance"].pop("containsAds"), "containsAds"),
    "countries": (lambda m: m["manifest"]["publishingInformation"].update(distributionCountries=["usa"]),
                  "distributionCountries"),
    "category": (lambda m: m["manifest"]["publishingInformation"].pop("category"), "category"),
    "no-custom": (lambda m: m["manifest"]["apis"].pop("custom"), "apis.custom"),
    "https-no-ssl": (lambda m: m["manifest"]["apis"]["custom"].update(endpoint={"uri": HTTPS_URL}),
                     "sslCertificateType"),
    "http": (lambda m: m["manifest"]["apis"]["custom"].update(
        endpoint={"uri": "http://x.example.com/alexa", "sslCertificateType": "Trusted"}), "endpoint.uri"),
    "placeholder": (lambda m: _locale(m).update(summary="About {skill_name}."), "unfilled placeholder"),
    "version": (lambda m: m["manifest"].update(manifestVersion="2.0"), "manifestVersion"),
    "permission": (lambda m: m["manifest"].update(permissions=[{"name": "alexa::profile:email:read"}]),
                   "manifest.permissions"),
    "permission-shape": (lambda m: m["manifest"].update(permissions=["alexa::alerts:reminders:skill:readwrite"]),
                         "manifest.permissions"),
}


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_the_validator_catches(manifest, models, name):
    breakage, expected = BREAKAGES[name]
    broken = copy.deepcopy(manifest)
    breakage(broken)
    problems = P.validate(broken, models)
    assert any(expected in problem for problem in problems), problems


# --- the package tree -------------------------------------------------------------

def files_under(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


def test_package_tree(tmp_path):
    out = tmp_path / "skill-package"
    written = P.assemble(out, lambda_arn=LAMBDA_ARN)
    locales = sorted(EMERGENCY)
    assert files_under(out) == {
        "skill.json",
        *(f"interactionModels/custom/{locale}.json" for locale in locales),
        "assets/images/small-icon.png", "assets/images/large-icon.png"}
    skill_json = json.loads((out / "skill.json").read_text(encoding="utf-8"))
    assert skill_json == written == P.build_manifest(lambda_arn=LAMBDA_ARN)
    for locale in locales:
        copied = out / "interactionModels" / "custom" / f"{locale}.json"
        assert copied.read_bytes() == (MODELS_DIR / f"{locale}.json").read_bytes()
    resources = json.loads((tmp_path / "ask-resources.json").read_text(encoding="utf-8"))
    assert resources["profiles"]["default"]["skillMetadata"]["src"] == "./skill-package"

    for block in locale_blocks(skill_json).values():
        for key, size in (("smallIconUri", 108), ("largeIconUri", 512)):
            path = out / block[key].removeprefix("file://")
            data = path.read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            with Image.open(path) as image:
                image.verify()
            with Image.open(path) as image:
                assert (image.format, image.size) == ("PNG", (size, size))
                assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 2   # drawn, not blank


def test_rebuild_replaces_the_package_and_keeps_ask_state(tmp_path):
    out = tmp_path / "skill-package"
    P.assemble(out)
    (out / "stale.json").write_text("{}")
    state = tmp_path / ".ask" / "ask-states.json"
    state.parent.mkdir()
    state.write_text('{"profiles": {"default": {"skillId": "amzn1.ask.skill.x"}}}')
    first_icon = (out / "assets/images/large-icon.png").read_bytes()
    P.assemble(out, https_url=HTTPS_URL)
    assert not (out / "stale.json").exists()
    assert state.exists()
    assert (out / "assets/images/large-icon.png").read_bytes() == first_icon   # deterministic
    assert json.loads((out / "skill.json").read_text())["manifest"]["apis"]["custom"]["endpoint"]["uri"] == HTTPS_URL


def test_stale_models_are_refused(tmp_path):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    for path in MODELS_DIR.glob("*.json"):
        (models_dir / path.name).write_bytes(path.read_bytes())
    (models_dir / "en-GB.json").write_text("{}")
    with pytest.raises(P.PackagingError, match="en-GB"):
        P.assemble(tmp_path / "skill-package", models_dir=models_dir)
    assert not (tmp_path / "skill-package").exists()


def test_command_line(tmp_path, capsys):
    out = tmp_path / "pkg"
    assert P.main(["--out", str(out), "--lambda-arn", LAMBDA_ARN]) == 0
    assert LAMBDA_ARN in capsys.readouterr().out
    assert P.main(["--out", str(tmp_path / "bad"), "--https-url", "http://insecure.example.com/alexa"]) == 1
    assert "https://" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_the_manifest_declares_the_permission_the_skill_asks_for(manifest):
    """The reminders scope the skill requests by voice (and on its consent card) is declared."""
    from skill.reminders import SCOPE, consent_card, consent_directive
    assert {"name": SCOPE} in manifest["manifest"]["permissions"]
    assert consent_directive().payload["permissionScope"] == SCOPE
    assert consent_card().permissions == [SCOPE]
    assert "Reminders" in manifest["manifest"]["publishingInformation"]["testingInstructions"]


# --- the third-party source and its permission ------------------------------------

def test_the_manifest_names_the_source_and_says_no_permission_is_recorded(manifest):
    instructions = manifest["manifest"]["publishingInformation"]["testingInstructions"]
    assert CONTENT.source["title"] in instructions and CONTENT.source["author"] in instructions
    assert "Permission to use this content and the author's name: not yet recorded." in instructions
    assert manifest["manifest"]["privacyAndCompliance"]["containsAds"] is False


def test_the_package_warns_that_it_is_not_ready_while_no_permission_is_recorded(tmp_path, capsys):
    assert P.main(["--out", str(tmp_path / "pkg")]) == 0
    assert "NOT READY FOR CERTIFICATION" in capsys.readouterr().err


def test_a_recorded_permission_is_stated_and_silences_the_warning(tmp_path, monkeypatch, capsys):
    raw = json.loads((ROOT / "skill" / "content.json").read_text(encoding="utf-8"))
    raw["source"]["permission"].update(status="granted", granted_by="Dr. Example", date="2027-01-05",
                                       evidence="signed letter on file")
    from skill import content as content_module
    recorded = content_module.Content(raw)
    monkeypatch.setattr(P, "CONTENT", recorded)
    monkeypatch.setattr(P.permission_recorded, "__defaults__", (recorded,))
    monkeypatch.setattr(P.source_statement, "__defaults__", (recorded,))
    instructions = P.build_manifest(recorded)["manifest"]["publishingInformation"]["testingInstructions"]
    assert "granted by Dr. Example on 2027-01-05 (signed letter on file)" in instructions
    assert P.main(["--out", str(tmp_path / "pkg")]) == 0
    assert "NOT READY" not in capsys.readouterr().err


def test_no_promotion_in_what_the_skill_says_or_listens_for():
    said = json.dumps(json.loads((ROOT / "skill" / "content.json").read_text(encoding="utf-8"))).lower()
    for word in ("newsmax", "ultimate manual", "barnes", "what book", "his book", "website", "francis hospital"):
        assert word not in said, word
