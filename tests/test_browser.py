"""The simulator page in a real browser: Debian's chromium, driven by Playwright.

The development app runs on a free loopback port in a thread; speech
synthesis is stubbed so the test hears what the page would say, at what rate
and when. Positions are measured (bounding boxes), at desktop (1280x800) and
phone (390x844) sizes. Skips when /usr/bin/chromium is missing (CI installs it
with apt; never `playwright install`). The harness is shared with
`make screenshots` (simulator/web/screenshots.py).
"""
from __future__ import annotations

import json
import re

import pytest

from simulator.web.screenshots import CHROMIUM, SIZES, SPEECH_STUB, chromium, dev_server

# make test sends a whole file to one xdist worker and the two fixtures below are session-scoped, so a
# run starts one chromium and one dev server, however the random order interleaves these tests with others.
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install -r requirements-dev.txt)")
expect = sync_api.expect

FOCUS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {id: el.id || el.tagName.toLowerCase(), outline: style.outlineStyle,
          width: parseFloat(style.outlineWidth)};
}"""
# WCAG contrast ratio between two computed colours ("rgb(r, g, b)").
CONTRAST = """([a, b]) => {
  const lum = (css) => {
    const [r, g, bl] = css.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""
STYLE = "(el, prop) => getComputedStyle(el)[prop]"
EMERGENCY_SPOKEN = "nine one one"


@pytest.fixture(scope="session")
def base_url():
    with dev_server() as base:
        yield base


@pytest.fixture(scope="session")
def browser():
    with chromium() as browser:
        yield browser


def open_page(browser, base_url, width=1280, height=800, color_scheme="light", timezone_id="UTC"):
    """A fresh page; ``timezone_id`` is the computer's zone, which the page offers first."""
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height},
                                  color_scheme=color_scheme, timezone_id=timezone_id)
    context.set_default_timeout(5000)
    context.add_init_script(SPEECH_STUB)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto("/")
    return context, page, errors


@pytest.fixture()
def page(browser, base_url):
    context, page, errors = open_page(browser, base_url)
    yield page
    context.close()
    assert errors == [], errors


@pytest.fixture(params=list(SIZES))
def sized_page(request, browser, base_url):
    width, height = SIZES[request.param]
    context, page, errors = open_page(browser, base_url, width, height)
    yield page
    context.close()
    assert errors == [], errors


def last_turn(page):
    return page.locator("#transcript li.turn").last


def say(page, utterance):
    turns = page.locator("#transcript li.turn")
    before = turns.count()
    page.locator("#utterance").fill(utterance)
    page.locator("#utterance").press("Enter")
    expect(turns).to_have_count(before + 1)
    expect(page.locator("#send")).to_be_enabled()
    return turns.nth(before)


def spoken(page):
    return page.evaluate("window.__spoken")


def heard_at_least(page, count, attempts=50):
    """What the page has said, once it has said ``count`` things (the page's CSP forbids wait_for_function)."""
    for _ in range(attempts):
        said = spoken(page)
        if len(said) >= count:
            return said
        page.wait_for_timeout(100)
    raise AssertionError(f"the page said {len(said)} things, expected {count}: {said}")


def assert_above_input_bar(page, *locators):
    """Each element is wholly inside the window and above the pinned input bar."""
    bar = page.locator("#ask").bounding_box()
    viewport = page.viewport_size
    assert bar["y"] + bar["height"] <= viewport["height"] + 0.5, (bar, viewport)
    for locator in locators:
        box = locator.bounding_box()
        assert box is not None and box["height"] > 0
        assert box["y"] >= 0, (locator, box)
        assert box["y"] + box["height"] <= bar["y"] + 0.5, (locator, box, bar)


# --- layout: the newest reply is always seen -----------------------------------

def test_newest_reply_is_whole_above_the_input_bar(sized_page):
    page = sized_page
    for utterance in ("can back pain be prostate cancer", "yes", "what is a psa test", "what is denosumab",
                      "tell me more", "my legs are numb"):
        turn = say(page, utterance)
        reply = turn.locator(".bubble.alexa")
        expect(reply).to_be_visible()
        shown = [reply]
        if turn.locator("details.card").count():
            shown.append(turn.locator("details.card summary"))
        assert_above_input_bar(page, *shown)
    # the emergency alert, after a page of answers
    assert_above_input_bar(page, last_turn(page).locator("[role=alert]"))


def test_one_answer_fits_a_phone_screen(browser, base_url):
    context, page, errors = open_page(browser, base_url, *SIZES["phone"])
    turn = say(page, "can back pain be prostate cancer")
    reply = turn.locator(".bubble.alexa").bounding_box()
    card = turn.locator("details.card").bounding_box()
    bar = page.locator("#ask").bounding_box()
    assert card["y"] + card["height"] - reply["y"] < bar["y"], "the answer and its card fit above the bar"
    context.close()
    assert errors == [], errors


# --- what a turn shows --------------------------------------------------------

def test_answer_once_card_folded_and_raw_json(page):
    expect(page).to_have_title(re.compile("Alexa simulator"))
    turn = say(page, "what is a psa test")
    expect(turn.locator(".bubble.user")).to_contain_text("what is a psa test")
    expect(turn.locator(".meta code")).to_have_text("PsaTestIntent")
    answer = turn.locator(".bubble.alexa")
    expect(answer).to_contain_text("PSA stands for")
    expect(page.locator("#utterance")).to_have_value("")

    # the card is one line (its title); its text, a second copy of the answer, stays folded away
    card = turn.locator("details.card")
    expect(card.locator("summary")).to_have_text("Card: The PSA test")
    expect(card.locator("p")).to_be_hidden()
    summary_box = card.locator("summary").bounding_box()
    assert card.bounding_box()["height"] < 2.5 * summary_box["height"]
    assert page.get_by_text("PSA stands for").filter(visible=True).count() == 1   # the answer is seen once
    card.locator("summary").click()
    expect(card.locator("p")).to_contain_text("Source: Dr. David Samadi")

    # raw JSON of the last turn, in a collapsed <details>
    expect(page.locator("#raw-request")).to_be_hidden()
    page.get_by_text("Request and response JSON of the last turn").click()
    expect(page.locator("#raw-request")).to_be_visible()
    request = json.loads(page.locator("#raw-request").inner_text())
    response = json.loads(page.locator("#raw-response").inner_text())
    assert request["request"]["intent"]["name"] == "PsaTestIntent"
    assert response["response"]["outputSpeech"]["ssml"].startswith("<speak>")

    # the speech toggle silences the next answer
    page.wait_for_timeout(600)   # the answer's own pause (400 ms) is over: all of it has been said
    heard = len(spoken(page))
    assert heard >= 1
    page.get_by_label("Speak replies").uncheck()
    say(page, "what is denosumab")
    expect(last_turn(page).locator(".meta code")).to_have_text("GlossaryIntent term=denosumab")
    page.wait_for_timeout(600)   # longer than any pause the page could still be waiting out
    assert len(spoken(page)) == heard


@pytest.mark.parametrize("locale,number,spoken_number", [("en-US", "911", "nine one one"),
                                                         ("en-GB", "999", "nine nine nine")])
def test_emergency_is_an_alert_with_the_number_in_digits(sized_page, locale, number, spoken_number):
    page = sized_page
    page.get_by_label("Locale").select_option(locale)
    normal = say(page, "what is a psa test").locator(".bubble.alexa")
    turn = say(page, "my legs are numb")
    alert = turn.locator(".bubble.alexa")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text(f"Call {number} now")
    expect(alert).to_contain_text(f"Please call {number} now")
    assert spoken_number not in alert.inner_text()
    assert page.locator("[role=alert]").count() == 1           # only the emergency is an alert
    assert turn.locator("details.card").count() == 0           # its card is the alert itself
    # visually distinct from an ordinary reply: other background, other and thicker border
    for prop in ("backgroundColor", "borderLeftColor"):
        assert alert.evaluate(STYLE, prop) != normal.evaluate(STYLE, prop), prop
    width = "(el) => parseFloat(getComputedStyle(el).borderLeftWidth)"
    assert alert.evaluate(width) >= 4 * normal.evaluate(width)
    assert page.evaluate(CONTRAST, [alert.evaluate(STYLE, "color"), alert.evaluate(STYLE, "backgroundColor")]) >= 4.5
    # speech still says the number the way a listener hears it
    assert spoken_number in " ".join(s["text"] for s in spoken(page))
    assert_above_input_bar(page, alert)


# --- input: focus, contrast, length ----------------------------------------------

@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_focus_on_load_and_contrast_of_focus_ring_and_border(browser, base_url, scheme):
    context, page, errors = open_page(browser, base_url, color_scheme=scheme)
    focus = page.evaluate(FOCUS)
    assert focus["id"] == "utterance" and focus["outline"] != "none" and focus["width"] >= 2, focus
    box = page.locator("#utterance")
    page_bg = page.locator("#ask").evaluate(STYLE, "backgroundColor")
    field_bg = box.evaluate(STYLE, "backgroundColor")
    ring = box.evaluate(STYLE, "outlineColor")
    assert page.evaluate(CONTRAST, [ring, page_bg]) >= 3
    assert page.evaluate(CONTRAST, [ring, field_bg]) >= 3
    page.locator("#send").focus()
    border = box.evaluate(STYLE, "borderTopColor")
    assert page.evaluate(CONTRAST, [border, page_bg]) >= 3
    assert page.evaluate(CONTRAST, [border, field_bg]) >= 3
    page.keyboard.press("Shift+Tab")   # a button's ring, drawn on the page background
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUS)["id"] == "send"
    assert page.evaluate(CONTRAST, [page.locator("#send").evaluate(STYLE, "outlineColor"), page_bg]) >= 3
    context.close()
    assert errors == [], errors


def test_over_long_input_says_so_and_is_not_cut(page):
    box = page.locator("#utterance")
    box.fill("a" * 501)
    expect(page.locator("#status")).to_have_text("That is 501 characters; the limit is 500. Shorten it to send.")
    expect(box).to_have_attribute("aria-invalid", "true")
    assert len(box.input_value()) == 501     # nothing cut silently
    box.press("Enter")
    expect(page.locator("#status")).to_contain_text("the limit is 500")
    assert page.locator("#transcript li.turn").count() == 0
    box.press("Backspace")
    expect(box).to_have_attribute("aria-invalid", "false")
    expect(page.locator("#status")).to_have_text("")


# --- speech follows the SSML -------------------------------------------------------

def test_slower_is_slower_with_pauses_and_acronyms_spelled(page):
    expect(page.locator("#pace")).to_have_text("Speaking at 100%")
    turn = say(page, "say that slower")
    expect(page.locator("#pace")).to_have_text("Speaking at 85%")
    expect(turn.locator(".pace-change")).to_have_text("Pace changed: speaking at 85%")
    assert heard_at_least(page, 1)[-1]["rate"] == pytest.approx(0.85)

    heard = len(spoken(page))
    turn = say(page, "what is a psa test")
    expect(turn.locator(".pace-change")).to_have_count(0)     # no change, no marker
    first, second = heard_at_least(page, heard + 2)[heard:heard + 2]
    assert first["text"].startswith("P S A stands for")        # say-as characters: letter by letter
    assert "<" not in first["text"] and "PSA" not in first["text"]
    assert first["rate"] == second["rate"] == pytest.approx(0.85)
    assert second["at"] - first["at"] >= 350                   # the <break time="400ms"/>
    assert second["text"].startswith("Your doctor can explain")                # the doctor line, after the pause
    assert all(s["lang"] == "en-US" for s in spoken(page))

    say(page, "normal speed")
    expect(page.locator("#pace")).to_have_text("Speaking at 100%")
    expect(last_turn(page).locator(".pace-change")).to_have_text("Pace changed: speaking at 100%")


# --- keyboard and settings ---------------------------------------------------------

def test_keyboard_alone(page):
    page.locator("#speak").evaluate("box => { box.checked = false; }")
    assert page.evaluate(FOCUS)["id"] == "utterance"          # no Tab needed to start typing
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
    for _ in range(20):
        if page.evaluate(FOCUS)["id"] == "new-session":
            break
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
    turn = say(page, "my legs are numb")
    expect(turn.locator("[role=alert]")).to_contain_text("Call 999 now")
    expect(turn.locator(".meta")).to_contain_text("EmergencyIntent")
    assert heard_at_least(page, 1)[-1]["lang"] == "en-GB"


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


# --- what the page states, and the device it simulates ------------------------------

def test_the_disclaimer_is_stated_once_at_the_top_even_before_the_skill_is_opened(page):
    disclaimer = page.locator("#disclaimer")
    expect(disclaimer).to_contain_text("not a doctor")
    expect(disclaimer).to_contain_text("In an emergency, call 911.")
    assert disclaimer.bounding_box()["y"] < page.locator("#transcript").bounding_box()["y"]
    say(page, "what is a psa test")   # a one-shot question: the skill's welcome, with its disclaimer, never plays
    assert page.get_by_text("not a doctor").count() == 1
    page.get_by_label("Locale").select_option("en-GB")
    expect(disclaimer).to_contain_text("In an emergency, call 999.")


def test_the_fallback_shows_the_emergency_number_in_digits(page):
    turn = say(page, "order me a pizza")
    reply = turn.locator(".bubble.alexa")
    expect(reply).to_contain_text("call 911")
    assert EMERGENCY_SPOKEN not in reply.inner_text()
    assert EMERGENCY_SPOKEN in " ".join(s["text"] for s in heard_at_least(page, 1))   # speech keeps the words


def test_a_new_session_after_stop_gets_a_divider(page):
    say(page, "what is a psa test")
    say(page, "stop")
    expect(page.locator("#transcript li.divider")).to_have_count(0)
    say(page, "what is a psa test")
    items = page.locator("#transcript > li")
    classes = [items.nth(i).get_attribute("class") for i in range(items.count())]
    assert classes == ["intro", "turn", "turn", "divider", "turn"], classes
    expect(page.locator("#transcript li.divider")).to_have_text("New session")
    page.get_by_role("button", name="New session").click()    # the button's own divider, not two
    say(page, "what is a psa test")
    expect(page.locator("#transcript li.divider")).to_have_count(2)


def test_the_time_zone_is_the_computers_and_drives_the_reminder(browser, base_url):
    context, page, errors = open_page(browser, base_url, timezone_id="Asia/Tokyo")
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("Asia/Tokyo")                    # not in the list: added first, chosen
    expect(zone.locator("option").first).to_have_text("Asia/Tokyo (this computer)")
    for said in ("remind me to call my doctor", "yes", "i approve"):
        say(page, said)
    expect(last_turn(page).locator(".meta.reminder")).to_have_text(re.compile(r"T09:00:00 \(Asia/Tokyo\)$"))
    zone.select_option("America/Chicago")
    page.get_by_role("button", name="New session").click()
    for said in ("remind me to call my doctor", "yes"):
        say(page, said)
    expect(last_turn(page).locator(".meta.reminder")).to_have_text(re.compile(r"T09:00:00 \(America/Chicago\)$"))
    context.close()
    assert errors == [], errors
