"""Interaction models generated from the content file, one per locale.

``python -m deploy.models --write`` (``make models``) rewrites
``interaction_model/<locale>.json``; ``--check`` exits non-zero when the
committed files differ from what the content says (tests do the same).
All five locales share the article's English; utility intents such as the
emergency add phrases only some markets use.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from skill.content import CONTENT, Content

MODELS_DIR = Path(__file__).resolve().parent.parent / "interaction_model"


def _intent(name: str, samples: tuple[str, ...] = (), slots: list[dict[str, str]] | None = None) -> dict[str, Any]:
    intent: dict[str, Any] = {"name": name}
    if slots:
        intent["slots"] = slots
    intent["samples"] = list(samples)
    return intent


def build_model(content: Content = CONTENT, locale: str = "en-US") -> dict[str, Any]:
    """The ASK interaction model for one locale, as a JSON-ready dict.

    All locales share the article's English; any intent may add the phrases
    only some markets use ("ring nine nine nine", "triple zero", "the denosumab jab").
    """
    extra = lambda intent: content.locale_extra(intent, locale)  # noqa: E731
    intents = [_intent(t.intent, (*t.samples, *extra(t.intent))) for t in content.topics]
    intents.append(_intent(content.glossary_intent, (*content.glossary_samples, *extra(content.glossary_intent)),
                           [{"name": content.glossary_slot, "type": content.glossary_slot_type}]))
    two = content.two_terms
    pair = [{"name": slot, "type": content.glossary_slot_type} for slot in two.slots]
    intents.append(_intent(two.compare_intent, (*two.compare_samples, *extra(two.compare_intent)), pair))
    intents.append(_intent(two.both_intent, (*two.both_samples, *extra(two.both_intent)), pair))
    intents.append(_intent(content.not_covered_intent,
                           (*content.not_covered_samples, *extra(content.not_covered_intent))))
    intents += [_intent(name, content.samples_for(name, locale)) for name in content.utility_intents]
    intents += [_intent(f.intent, f.samples) for f in content.follow_ups]
    intents.append(_intent(content.personal_intent, (*content.personal_samples, *extra(content.personal_intent))))
    intents += [_intent(t.intent, (*t.samples, *extra(t.intent))) for t in content.small_talk]
    intents += [_intent(name, (*content.builtin_samples.get(name, ()), *extra(name)))
                for name in content.builtin_intents]
    values = [{"id": t.id, "name": {"value": t.name, "synonyms": list(t.synonyms)}}
              for t in content.terms]
    return {"interactionModel": {"languageModel": {
        "invocationName": content.invocation_name,
        "intents": intents,
        "types": [{"name": content.glossary_slot_type, "values": values}],
    }}}


def model_json(model: dict[str, Any]) -> str:
    """The model file's text: stable indentation and a final newline, so regenerating changes nothing."""
    return json.dumps(model, indent=2, ensure_ascii=False) + "\n"


def model_path(locale: str, directory: Path = MODELS_DIR) -> Path:
    return directory / f"{locale}.json"


def stale_models(content: Content = CONTENT, directory: Path = MODELS_DIR) -> list[str]:
    """Locales whose committed model is missing or differs from the content."""
    return [locale for locale in content.locales
            if not model_path(locale, directory).exists()
            or model_path(locale, directory).read_text(encoding="utf-8") != model_json(build_model(content, locale))]


def write_models(content: Content = CONTENT, directory: Path = MODELS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for locale in content.locales:
        paths.append(model_path(locale, directory))
        paths[-1].write_text(model_json(build_model(content, locale)), encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the model files")
    parser.add_argument("--check", action="store_true", help="fail if the files are out of date")
    args = parser.parse_args(argv)
    if args.write:
        for path in write_models():
            print(f"wrote {path.relative_to(MODELS_DIR.parent)}")
        return 0
    stale = stale_models()
    if stale:
        print(f"out of date: {', '.join(stale)}; run `make models`", file=sys.stderr)
        return 1
    print("interaction models are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
