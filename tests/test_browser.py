"""The simulator page in a real browser: Debian's chromium, driven by Playwright.

The development webhook runs on a free loopback port in a thread; speech
synthesis is stubbed so the test hears what the page would say.  Skips when
/usr/bin/chromium is missing (CI installs it with apt; never `playwright install`).
"""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -r requirements-dev.txt)")
expect = sync_api.expect

from werkzeug.serving import make_server  # noqa: E402

from simulator.devserver import create_dev_app  # noqa: E402

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
# Record what the page asks the browser to say instead of saying it.
SPEECH_STUB = """
window.__spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = (utterance) => window.__spoken.push([utterance.text, utterance.lang]);
  window.speechSynthesis.cancel = () => {};
}
"""
FOCUS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {id: el.id || el.tagName.toLowerCase(), outline: style.outlineStyle,
          width: parseFloat(style.outlineWidth)};
}"""


@pytest.fixture(scope="module")
def base_url():
    server = make_server("127.0.0.1", 0, create_dev_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, base_url):
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(5000)
    context.add_init_script(SPEECH_STUB)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/")
    yield page
    context.close()
    assert errors == [], errors


def last_turn(page):
    return page.locator("#transcript li.turn").last


def test_question_answer_intent_and_raw_json(page):
    expect(page).to_have_title(re.compile("Alexa simulator"))
    page.get_by_label("What you say to Alexa").fill("what is a psa test")
    page.get_by_label("What you say to Alexa").press("Enter")

    turn = last_turn(page)
    expect(turn.locator(".bubble.user")).to_contain_text("what is a psa test")
    expect(turn.locator(".meta code")).to_have_text("PsaTestIntent")
    answer = turn.locator(".bubble.alexa")
    expect(answer).to_contain_text("PSA")
    expect(turn.locator(".card .card-title")).not_to_be_empty()
    expect(page.locator("#utterance")).to_have_value("")

    # the plain text of the answer is what gets spoken, in the page's locale
    spoken = page.evaluate("window.__spoken")
    assert spoken == [[answer.evaluate("bubble => bubble.lastChild.textContent"), "en-US"]]
    assert "<" not in spoken[0][0]

    # raw JSON of the last turn, in a collapsed <details>
    expect(page.locator("#raw-request")).to_be_hidden()
    page.get_by_text("Request and response JSON of the last turn").click()
    expect(page.locator("#raw-request")).to_be_visible()
    request = json.loads(page.locator("#raw-request").inner_text())
    response = json.loads(page.locator("#raw-response").inner_text())
    assert request["request"]["intent"]["name"] == "PsaTestIntent"
    assert response["response"]["outputSpeech"]["ssml"].startswith("<speak>")

    # the speech toggle silences the next answer
    page.get_by_label("Speak replies").uncheck()
    page.locator("#utterance").fill("what is denosumab")
    page.locator("#utterance").press("Enter")
    expect(last_turn(page).locator(".meta code")).to_have_text("GlossaryIntent term=denosumab")
    assert len(page.evaluate("window.__spoken")) == 1


def test_keyboard_alone(page):
    page.locator("#speak").evaluate("box => { box.checked = false; }")
    order = []
    for _ in range(12):  # Tab from the top of the page to the text box
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        order.append(focus["id"])
        assert focus["outline"] != "none" and focus["width"] >= 2, focus  # focus is visible
        if focus["id"] == "utterance":
            break
    assert order[-1] == "utterance", order
    assert order[0] == "locale" and "new-session" in order

    page.keyboard.type("can back pain be prostate cancer")
    page.keyboard.press("Enter")
    expect(last_turn(page).locator(".meta code")).to_have_text("BackPainCancerIntent")
    page.keyboard.type("yes")  # focus stays in the text box
    page.keyboard.press("Enter")
    turn = last_turn(page)
    expect(turn.locator(".meta code")).to_have_text("AMAZON.YesIntent")
    expect(turn.locator(".bubble.alexa")).to_contain_text("lymph nodes")  # the offered topic: session carried

    after = []
    for _ in range(4):  # Tab on reaches the buttons and the JSON pane
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        assert focus["outline"] != "none" and focus["width"] >= 2, focus
        after.append(focus["id"])
        if focus["id"] == "summary":
            break
    assert after[0] == "send" and after[-1] == "summary", after
    page.keyboard.press("Enter")  # open the pane from the keyboard
    expect(page.locator("#raw-request")).to_contain_text("AMAZON.YesIntent")

    page.keyboard.press("Shift+Tab")
    while page.evaluate(FOCUS)["id"] != "new-session":
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#transcript li.divider").last).to_have_text("New session")
    page.locator("#utterance").focus()
    page.keyboard.type("yes")
    page.keyboard.press("Enter")
    expect(page.locator("#transcript li.turn")).to_have_count(3)
    assert json.loads(page.locator("#raw-request").inner_text())["session"]["new"] is True


def test_locale_and_refusals(page):
    page.get_by_label("Locale").select_option("en-GB")
    expect(page.locator("#transcript li.divider").last).to_have_text("New session · en-GB")
    page.locator("#utterance").press("Enter")  # nothing typed: nothing sent
    expect(page.locator("#status")).to_have_text("Type what you would say to Alexa first.")
    expect(page.locator("#transcript li.turn")).to_have_count(0)
    page.locator("#utterance").fill("my legs are numb")
    page.locator("#utterance").press("Enter")
    turn = last_turn(page)
    expect(turn.locator(".card .card-title")).to_have_text("Call 999 now")
    expect(turn.locator(".meta")).to_contain_text("EmergencyIntent")
    assert page.evaluate("window.__spoken")[-1][1] == "en-GB"


def test_consent_question_and_reminder_in_the_transcript(page):
    box = page.get_by_label("What you say to Alexa")
    for said in ("remind me to call my doctor", "yes"):
        box.fill(said)
        box.press("Enter")
        expect(last_turn(page).locator(".bubble.user")).to_contain_text(said)
    asked = last_turn(page)
    consent = asked.locator(".bubble.consent")
    expect(consent).to_contain_text("Alexa (permission request)")
    expect(consent).to_contain_text("Do you give Back Pain Guide permission to update your reminders?")
    expect(asked.locator(".bubble.alexa:not(.consent)")).to_have_count(0)   # the skill itself said nothing

    box.fill("i approve")
    box.press("Enter")
    done = last_turn(page)
    expect(done.locator(".bubble.alexa")).to_contain_text("at 9 in the morning")
    expect(done.locator(".meta.reminder")).to_have_text(re.compile(
        r'Reminder set: "Time to call your doctor about your back pain\." at \d{4}-\d\d-\d\dT09:00:00 \(UTC\)'))

    # A new session keeps the user's grant: no consent question the second time.
    page.get_by_role("button", name=re.compile("new session", re.I)).click()
    for said in ("remind me to call my doctor", "yes"):
        box.fill(said)
        box.press("Enter")
        expect(last_turn(page).locator(".bubble.user")).to_contain_text(said)
    again = last_turn(page)
    expect(again.locator(".bubble.consent")).to_have_count(0)
    expect(again.locator(".meta.reminder")).to_contain_text("Reminder set")
