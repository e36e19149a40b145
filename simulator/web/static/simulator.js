// Alexa simulator page.  The server is stateless: each answer carries the
// conversation state ("session") and we send it back with the next utterance,
// the way Alexa carries session attributes between requests.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const app = document.querySelector(".app");
  const endpoint = app.dataset.endpoint;
  const form = $("ask");
  const input = $("utterance");
  const send = $("send");
  const mic = $("mic");
  const speakBox = $("speak");
  const localeSelect = $("locale");
  const zoneSelect = $("time-zone");
  const disclaimer = $("disclaimer");
  const disclaimers = JSON.parse(disclaimer.dataset.byLocale || "{}");
  const transcript = $("transcript");
  const status = $("status");
  const rawRequest = $("raw-request");
  const rawResponse = $("raw-response");
  const paceLabel = $("pace");
  const maxLength = Number(input.dataset.max) || 500;

  let session = null;   // state from the last answer, sent back as-is
  let busy = false;
  let pace = 100;       // percent of normal speed of the last reply
  let turnsInSession = 0;   // turns shown since the last divider

  // ---------------------------------------------------------------- helpers
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setStatus(message, isError = false) {
    status.textContent = message;
    status.classList.toggle("error", isError);
  }

  // Scroll so the newest reply sits whole above the pinned input bar (or, when
  // taller than the room there, starts at the top of the window).
  function reveal(node, from = node) {
    const room = form.getBoundingClientRect().top - 8;
    const top = from.getBoundingClientRect().top;
    const bottom = node.getBoundingClientRect().bottom;
    let by = Math.max(0, bottom - room);
    if (top - by < 8) by = top - 8;
    if (by > 0) window.scrollBy({ top: by, behavior: "instant" });
  }

  function append(node, reply) {
    transcript.append(node);
    reveal(node, reply || node);
  }

  function bubble(kind, who, text) {
    const node = element("p", `bubble ${kind}`);
    node.append(element("span", "who", who), document.createTextNode(text));
    return node;
  }

  function tooLong() {
    return input.value.length > maxLength;
  }

  function lengthWarning() {
    return `That is ${input.value.length} characters; the limit is ${maxLength}. Shorten it to send.`;
  }

  function quoted(value) {
    const text = String(value);
    return /\s/.test(text) ? `"${text}"` : text;
  }

  // "term=denosumab", or "term=zometa (zoledronic acid)" when it resolved to another name.
  function slotText(slots) {
    return Object.entries(slots || {}).map(([name, slot]) => {
      if (slot && typeof slot === "object") {
        const said = quoted(slot.value);
        const same = String(slot.name).toLowerCase() === String(slot.value).toLowerCase();
        return same ? `${name}=${said}` : `${name}=${said} (${slot.name})`;
      }
      return `${name}=${quoted(slot)}`;
    }).join(" ");
  }

  function resolvedText(turn) {
    if (turn.intent) return [turn.intent, slotText(turn.slots)].filter(Boolean).join(" ");
    return turn.request_type || "no request sent";
  }

  function json(value) {
    return value === null || value === undefined ? "None for this turn." : JSON.stringify(value, null, 2);
  }

  // ---------------------------------------------------------------- speech out
  const canSpeak = "speechSynthesis" in window && "SpeechSynthesisUtterance" in window;
  if (!canSpeak) {
    speakBox.checked = false;
    speakBox.disabled = true;
    $("speak-toggle").hidden = true;
  }

  let speaking = 0;   // bumped on every stop, so a cancelled reply's pending segments stay silent

  function stopSpeaking() {
    speaking += 1;
    if (canSpeak) window.speechSynthesis.cancel();
  }

  // The reply as the skill's SSML asks (segments from the server): each at its
  // rate ("say that slower" is 0.85), with the pause a <break> asks for before it.
  function speak(segments) {
    if (!canSpeak || !speakBox.checked || !segments || !segments.length) return;
    stopSpeaking();
    const run = speaking;
    const next = (index) => {
      if (run !== speaking || index >= segments.length) return;
      const segment = segments[index];
      window.setTimeout(() => {
        if (run !== speaking) return;
        const utterance = new SpeechSynthesisUtterance(segment.text);
        utterance.lang = localeSelect.value;
        utterance.rate = segment.rate;
        utterance.onend = () => next(index + 1);
        window.speechSynthesis.speak(utterance);
      }, segment.pause_ms);
    };
    next(0);
  }

  function showPace(percent) {
    pace = percent;
    paceLabel.textContent = `Speaking at ${percent}%`;
  }

  speakBox.addEventListener("change", () => { if (!speakBox.checked) stopSpeaking(); });

  // ---------------------------------------------------------------- transcript
  // An emergency reply is an alert: its card title as a heading, the number in digits.
  function urgentReply(turn) {
    const node = element("div", "bubble alexa urgent");
    node.setAttribute("role", "alert");
    node.append(element("span", "who", "Alexa · emergency"));
    if (turn.card && turn.card.title) node.append(element("strong", "urgent-title", turn.card.title));
    node.append(element("span", "urgent-text", turn.view.text));
    return node;
  }

  // The card folded to one line; the answer itself is already in the bubble.
  function compactCard(card) {
    const node = element("details", "card");
    const summary = element("summary");
    summary.append(document.createTextNode("Card: "), element("span", "card-title", card.title || "Card"));
    node.append(summary, element("p", "", card.content));
    return node;
  }

  function showTurn(turn) {
    const view = turn.view || { text: turn.speech, urgent: false, pace: null, speak: [] };
    const item = element("li", view.urgent ? "turn urgent" : "turn");
    item.append(bubble("user", "You", turn.utterance));
    // Alexa's own consent question is shown apart from what the skill said.
    const skillText = view.text && turn.alexa_prompt ? view.text.replace(turn.alexa_prompt, "").trim() : view.text;
    let reply = null;
    if (skillText) {
      reply = view.urgent ? urgentReply(turn) : bubble("alexa", "Alexa", skillText);
      item.append(reply);
    }
    if (turn.alexa_prompt) item.append(bubble("alexa consent", "Alexa (permission request)", turn.alexa_prompt));
    for (const reminder of turn.reminders || []) {
      item.append(element("p", "meta reminder",
        `Reminder set: "${reminder.text}" at ${reminder.scheduled} (${reminder.time_zone})`));
    }

    const meta = element("p", "meta");
    meta.append(element("span", "visually-hidden", "Resolved as "), element("code", "", resolvedText(turn)));
    if (turn.end_session) meta.append(document.createTextNode(" · session ended"));
    item.append(meta);
    if (view.pace !== null && view.pace !== undefined && view.pace !== pace) {
      item.append(element("p", "meta pace-change", `Pace changed: speaking at ${view.pace}%`));
      showPace(view.pace);
    }

    if (turn.card && !view.urgent) item.append(compactCard(turn.card));
    for (const note of turn.notes || []) item.append(element("p", "meta note", note));
    transcript.append(item);
    return () => reveal(item, reply || item);
  }

  function showError(utterance, message) {
    const item = element("li", "turn");
    item.append(bubble("user", "You", utterance), bubble("alexa error", "Simulator", message));
    append(item);
  }

  function divider(label) {
    turnsInSession = 0;
    return element("li", "divider", label);
  }

  function newSession(label) {
    stopSpeaking();
    // Same user and device, and the permissions they granted: only the session is new.
    if (session) session = { user_id: session.user_id, device_id: session.device_id, permissions: session.permissions };
    append(divider(label));
  }

  // The simulated device's time zone: the browser's own, unless the user picks another.
  function chooseZone() {
    let own = "";
    try { own = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { own = ""; }
    if (own && ![...zoneSelect.options].some((option) => option.value === own)) {
      zoneSelect.prepend(new Option(`${own} (this computer)`, own));
    }
    zoneSelect.value = own || "UTC";
    if (!zoneSelect.value) zoneSelect.value = "UTC";
  }

  function showDisclaimer() {
    if (disclaimers[localeSelect.value]) disclaimer.textContent = disclaimers[localeSelect.value];
  }

  // ---------------------------------------------------------------- turns
  async function ask(utterance) {
    if (busy || !utterance) return;
    busy = true;
    send.disabled = true;
    transcript.setAttribute("aria-busy", "true");
    setStatus("Waiting for Alexa…");
    try {
      const reply = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ utterance, locale: localeSelect.value, time_zone: zoneSelect.value, session }),
      });
      const data = await reply.json().catch(() => ({ error: `HTTP ${reply.status}` }));
      if (!reply.ok) {
        showError(utterance, data.error || `HTTP ${reply.status}`);
        setStatus(`The simulator refused that: ${data.error || reply.status}`, true);
        return;
      }
      session = data.session;
      // A session Alexa opened afresh (after "stop", or a one-shot question) gets its divider.
      const opened = data.request && data.request.session && data.request.session.new;
      if (opened && turnsInSession > 0) transcript.append(divider("New session"));
      turnsInSession += 1;
      const revealTurn = showTurn(data);
      rawRequest.textContent = json(data.request);
      rawResponse.textContent = json(data.response);
      setStatus(data.end_session ? "The session has ended; the next question starts a new one." : "");
      input.value = "";
      revealTurn();   // after the status line, which can change the input bar's height
      speak(data.view && data.view.speak);
    } catch (error) {
      showError(utterance, "Could not reach the simulator server. Is it still running?");
      setStatus("Could not reach the simulator server.", true);
    } finally {
      busy = false;
      send.disabled = false;
      transcript.removeAttribute("aria-busy");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const utterance = input.value.trim();
    if (!utterance) {
      setStatus("Type what you would say to Alexa first.", true);
      input.focus();
      return;
    }
    if (tooLong()) {
      setStatus(lengthWarning(), true);
      input.focus();
      return;
    }
    ask(utterance);
  });

  // Say so as soon as the text is too long, rather than cutting it silently.
  input.addEventListener("input", () => {
    const over = tooLong();
    input.setAttribute("aria-invalid", String(over));
    if (over) setStatus(lengthWarning(), true);
    else if (status.classList.contains("error")) setStatus("");
  });

  $("new-session").addEventListener("click", () => {
    newSession("New session");
    setStatus("Started a new session.");
  });

  localeSelect.addEventListener("change", () => {
    newSession(`New session · ${localeSelect.value}`);
    showDisclaimer();
    setStatus(`Locale is now ${localeSelect.value}; a new session starts.`);
  });

  zoneSelect.addEventListener("change", () => {
    setStatus(`The device's time zone is now ${zoneSelect.value}.`);
  });

  chooseZone();

  // ---------------------------------------------------------------- speech in
  const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  const recognitionErrors = {
    "not-allowed": "Microphone access was refused.",
    "service-not-allowed": "Speech recognition is not allowed in this browser.",
    "no-speech": "No speech heard. Try again.",
    "audio-capture": "No microphone found.",
    network: "Speech recognition needs a network connection in this browser.",
  };
  let recognition = null;

  function setListening(on) {
    mic.setAttribute("aria-pressed", String(on));
    mic.textContent = on ? "Stop" : "Talk";
    if (on) setStatus("Listening…");
  }

  if (Recognition) {
    mic.hidden = false;
    mic.addEventListener("click", () => {
      if (recognition) {
        recognition.stop();
        return;
      }
      stopSpeaking();
      let heard = "";
      recognition = new Recognition();
      recognition.lang = localeSelect.value;
      recognition.interimResults = true;
      recognition.maxAlternatives = 1;
      recognition.onresult = (event) => {
        let interim = "";
        for (let i = event.resultIndex; i < event.results.length; i += 1) {
          const result = event.results[i];
          if (result.isFinal) heard += result[0].transcript;
          else interim += result[0].transcript;
        }
        input.value = (heard + interim).trim();
      };
      recognition.onerror = (event) => {
        setStatus(recognitionErrors[event.error] || `Speech recognition failed (${event.error}).`, true);
      };
      recognition.onend = () => {
        recognition = null;
        setListening(false);
        if (status.textContent === "Listening…") setStatus("");
        if (heard.trim()) ask(heard.trim());
      };
      try {
        recognition.start();
        setListening(true);
      } catch (error) {
        recognition = null;
        setStatus("Speech recognition could not start.", true);
      }
    });
  }

  input.focus();   // type straight away (autofocus does not survive every reload)
})();
