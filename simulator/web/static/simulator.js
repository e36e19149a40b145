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
  const transcript = $("transcript");
  const status = $("status");
  const rawRequest = $("raw-request");
  const rawResponse = $("raw-response");

  let session = null;   // state from the last answer, sent back as-is
  let busy = false;

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

  function append(node) {
    transcript.append(node);
    node.scrollIntoView({ block: "nearest" });
  }

  function bubble(kind, who, text) {
    const node = element("p", `bubble ${kind}`);
    node.append(element("span", "who", who), document.createTextNode(text));
    return node;
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

  function stopSpeaking() {
    if (canSpeak) window.speechSynthesis.cancel();
  }

  function speak(text) {
    if (!canSpeak || !speakBox.checked || !text) return;
    stopSpeaking();
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = localeSelect.value;
    window.speechSynthesis.speak(utterance);
  }

  speakBox.addEventListener("change", () => { if (!speakBox.checked) stopSpeaking(); });

  // ---------------------------------------------------------------- transcript
  function showTurn(turn) {
    const item = element("li", "turn");
    item.append(bubble("user", "You", turn.utterance));
    // Alexa's own consent question is shown apart from what the skill said.
    const skillSpeech = turn.alexa_prompt ? turn.speech.replace(turn.alexa_prompt, "").trim() : turn.speech;
    if (skillSpeech) item.append(bubble("alexa", "Alexa", skillSpeech));
    if (turn.alexa_prompt) item.append(bubble("alexa consent", "Alexa (permission request)", turn.alexa_prompt));
    for (const reminder of turn.reminders || []) {
      item.append(element("p", "meta reminder",
        `Reminder set: "${reminder.text}" at ${reminder.scheduled} (${reminder.time_zone})`));
    }

    const meta = element("p", "meta");
    meta.append(element("span", "visually-hidden", "Resolved as "), element("code", "", resolvedText(turn)));
    if (turn.end_session) meta.append(document.createTextNode(" · session ended"));
    item.append(meta);

    if (turn.card) {
      const card = element("div", "card");
      card.append(element("p", "card-title", turn.card.title || "Card"), element("p", "", turn.card.content));
      item.append(card);
    }
    for (const note of turn.notes || []) item.append(element("p", "meta note", note));
    append(item);
  }

  function showError(utterance, message) {
    const item = element("li", "turn");
    item.append(bubble("user", "You", utterance), bubble("alexa error", "Simulator", message));
    append(item);
  }

  function newSession(label) {
    stopSpeaking();
    // Same user and device, and the permissions they granted: only the session is new.
    if (session) session = { user_id: session.user_id, device_id: session.device_id, permissions: session.permissions };
    append(element("li", "divider", label));
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
        body: JSON.stringify({ utterance, locale: localeSelect.value, session }),
      });
      const data = await reply.json().catch(() => ({ error: `HTTP ${reply.status}` }));
      if (!reply.ok) {
        showError(utterance, data.error || `HTTP ${reply.status}`);
        setStatus(`The simulator refused that: ${data.error || reply.status}`, true);
        return;
      }
      session = data.session;
      showTurn(data);
      rawRequest.textContent = json(data.request);
      rawResponse.textContent = json(data.response);
      setStatus(data.end_session ? "The session has ended; the next question starts a new one." : "");
      input.value = "";
      speak(data.speech);
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
    ask(utterance);
  });

  $("new-session").addEventListener("click", () => {
    newSession("New session");
    setStatus("Started a new session.");
  });

  localeSelect.addEventListener("change", () => {
    newSession(`New session · ${localeSelect.value}`);
    setStatus(`Locale is now ${localeSelect.value}; a new session starts.`);
  });

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
})();
