#!/usr/bin/env node
// Drive the skill's webhook with Bespoken's virtual-alexa (pinned to 0.7.8),
// a client we did not write, and report what happened as JSON lines on stdout.
//
//   node drive.js <skill-url> <interaction-model.json>
//
// One JSON object per line, each with a "kind":
//   launch    the opening LaunchRequest
//   sample    one sample utterance of one intent, sent with utter(text)
//   skipped   a sample we did not send, with the reason
//   builtin   a built-in intent sent with intend(name)
//   phrase    a phrase virtual-alexa itself knows for a declared built-in, sent with utter()
//   followup  a second turn in the same session (checks session attributes round-trip)
//   summary   counts, always the last line
//   (also session_end_failed, when closing a session fails, and fatal, on a crash)
// Every turn records what virtual-alexa actually sent (request type, intent
// name, slots), whether the HTTP call succeeded, and the speech that came back.
// A failure is recorded on its own line; it never stops the run.
//
// What virtual-alexa 0.7.8's matcher can and cannot do (read from its source):
// - utter() first runs /(ask|open|launch|talk to|tell)/i over the whole phrase,
//   with no word boundaries, and on a hit sends a LaunchRequest instead of an
//   intent (or, for "tell X to Y", utters only Y). So "tell me about zometa",
//   "tell me more" and even "should i ask for a bone scan" can never reach their
//   intents through utter(). We skip such samples and report each one.
// - Otherwise it needs an exact sample (case and most punctuation ignored, no
//   fuzziness); a slot only matches a listed value or synonym of its type.
// - Built-in intents only get the handful of phrases in its BuiltinUtterances
//   table ("help", "stop", "cancel", "yes", "no", "repeat", "start over", "go
//   home", ...). Nothing ever routes to AMAZON.FallbackIntent. So every built-in
//   is exercised with intend(name), and the table's phrases are uttered as well.
"use strict";

const fs = require("fs");
const { VirtualAlexa } = require("virtual-alexa");
const { BuiltinUtterances } = require("virtual-alexa/lib/src/model/BuiltinUtterances");
const { SamplePhrase } = require("virtual-core/lib/src/SampleUtterances");

// virtual-core compiles every sample's RegExp afresh on every utter(): with
// thousands of samples that was most of this run's time (measured with
// node --cpu-prof: 6.7 s of 17 s). A case-insensitive, non-global RegExp
// keeps no state between matches, so compiling it once per sample changes
// nothing about what matches.
const compiled = new WeakMap();
const compile = SamplePhrase.prototype.regex;
SamplePhrase.prototype.regex = function regex() {
  if (!compiled.has(this)) compiled.set(this, compile.call(this));
  return compiled.get(this);
};

// The same test virtual-alexa 0.7.8 applies in VirtualAlexa.parseLaunchRequest.
const LAUNCH_WORDS = /(ask|open|launch|talk to|tell)/i;
const SLOT = /\{(\w+)\}/g;

function emit(record) {
  process.stdout.write(JSON.stringify(record) + "\n");
}

function loadModel(path) {
  const json = JSON.parse(fs.readFileSync(path, "utf8"));
  const lm = json.interactionModel.languageModel;
  const types = {};
  for (const t of lm.types || []) types[t.name] = t.values.map((v) => v.name.value);
  return { intents: lm.intents, types };
}

// The literal stretches of a sample between its slots ("what's better", "or").
function pieces(sample) {
  return sample.toLowerCase().split(SLOT).filter((_, i) => i % 2 === 0)
    .map((piece) => piece.trim()).filter((piece) => piece.length > 0);
}

// Fill each {slot} with a listed value of its type, cycling through the values
// so that, over all samples, every value gets sent. A value is passed over when
// the filled-in phrase would be word for word a sample of another intent (for
// example "what is {term}" with "psa" is PsaTestIntent's "what is psa"): an
// exact sample wins in virtual-alexa, as it should, so that pair would test
// nothing about the slot. Passed-over phrases are reported as "avoided".
function makeExpander(model) {
  const cursor = {};
  const literal = new Map();
  for (const intent of model.intents) {
    for (const s of intent.samples || []) {
      if (!s.includes("{")) literal.set(s.toLowerCase(), intent.name);
    }
  }
  return (intent, sample) => {
    const slots = {};
    const avoided = [];
    let text = sample;
    const carrier = pieces(sample);
    for (const [, name] of sample.matchAll(SLOT)) {
      const decl = (intent.slots || []).find((s) => s.name === name);
      const values = decl && model.types[decl.type];
      if (!values || values.length === 0) throw new Error(`no values for slot {${name}} in ${intent.name}`);
      const start = cursor[decl.type] || 0;
      let chosen = null;
      for (let k = 0; k < values.length && chosen === null; k++) {
        const value = values[(start + k) % values.length];
        const candidate = text.replace(`{${name}}`, value);
        const other = literal.get(candidate.toLowerCase());
        if (other && other !== intent.name) {
          avoided.push({ text: candidate, sample_of: other });
        } else if (carrier.some((piece) => value.toLowerCase().includes(piece))) {
          // virtual-alexa turns a sample into a regex without word boundaries, so a value
          // holding the carrier's own words ("tumor" in "{first} or {second}") splits wrongly.
          avoided.push({ text: candidate, reason: "value holds the carrier's words" });
        } else if (LAUNCH_WORDS.test(value)) {
          avoided.push({ text: candidate, reason: "launch word in slot value" });
        } else {
          chosen = value;
          cursor[decl.type] = start + k + 1;
        }
      }
      if (chosen === null) throw new Error(`no usable value for {${name}} in "${sample}"`);
      slots[name] = chosen;
      text = text.replace(`{${name}}`, chosen);
    }
    return { text, slots, avoided };
  };
}

function describe(envelope) {
  if (!envelope) return { request_type: null, intent: null, sent_slots: null };
  const req = envelope.request || {};
  let sentSlots = null;
  if (req.intent && req.intent.slots) {
    sentSlots = {};
    for (const [name, slot] of Object.entries(req.intent.slots)) {
      const rpa = slot.resolutions && slot.resolutions.resolutionsPerAuthority;
      sentSlots[name] = {
        value: slot.value === undefined ? null : slot.value,
        resolution: rpa && rpa[0] ? rpa[0].status.code : null,
      };
    }
  }
  return {
    request_type: req.type || null,
    intent: req.intent ? req.intent.name : null,
    session_new: envelope.session ? envelope.session.new : null,
    sent_slots: sentSlots,
  };
}

function httpStatus(error) {
  const m = /Invalid response: (\d+)/.exec(String(error));
  return m ? Number(m[1]) : null;
}

async function main() {
  const [url, modelPath] = process.argv.slice(2);
  if (!url || !modelPath) {
    process.stderr.write("usage: node drive.js <skill-url> <interaction-model.json>\n");
    process.exit(2);
  }
  const model = loadModel(modelPath);
  const expand = makeExpander(model);

  const alexa = VirtualAlexa.Builder()
    .skillURL(url)
    .interactionModelFile(modelPath)
    .locale("en-US")
    .create();

  let sent = [];
  alexa.filter((envelope) => {
    // filter() sees the object before it is serialized: keep a copy.
    sent.push(JSON.parse(JSON.stringify(envelope)));
  });

  const counts = { sample: 0, skipped: 0, builtin: 0, phrase: 0, followup: 0, failed: 0 };

  // One turn: call fn(), then describe the envelope it sent and the answer.
  async function turn(fields, fn) {
    sent = [];
    const record = { ...fields };
    try {
      const reply = await fn();
      const envelope = sent.filter((e) => e.request.type !== "SessionEndedRequest").pop();
      Object.assign(record, describe(envelope));
      const response = (reply && reply.response) || {};
      const speech = response.outputSpeech || null;
      record.ok = true;
      record.http_status = 200;
      record.speech_type = speech ? speech.type : null;
      record.ssml = speech ? speech.ssml || null : null;
      record.ssml_length = record.ssml ? record.ssml.length : 0;
      record.has_reprompt = Boolean(response.reprompt);
      record.should_end_session = response.shouldEndSession === true;
      record.session_attributes = (reply && reply.sessionAttributes) || {};
    } catch (error) {
      Object.assign(record, describe(sent[sent.length - 1]));
      record.ok = false;
      record.http_status = httpStatus(error);
      record.error = String(error && error.message ? error.message : error);
      counts.failed += 1;
    }
    emit(record);
    return record;
  }

  // Start every turn in a new session: close the current one (if the skill
  // left it open) with a SessionEndedRequest first.
  async function freshSession() {
    if (!alexa.context().activeSession()) return;
    try {
      await alexa.endSession();
    } catch (error) {
      emit({ kind: "session_end_failed", error: String(error) });
      alexa.context().endSession();
    }
  }

  await turn({ kind: "launch" }, () => alexa.launch());

  const builtins = [];
  for (const intent of model.intents) {
    if (intent.name.startsWith("AMAZON.")) builtins.push(intent.name);
    for (const sample of intent.samples || []) {
      // Test the carrier phrase before filling slots, so a skipped sample
      // does not use up a slot value.
      if (LAUNCH_WORDS.test(sample.replace(SLOT, " "))) {
        counts.skipped += 1;
        emit({ kind: "skipped", expected: intent.name, sample,
               reason: "virtual-alexa turns any phrase containing ask/open/launch/talk to/tell into a LaunchRequest" });
        continue;
      }
      const { text, slots, avoided } = expand(intent, sample);
      const fields = { kind: "sample", expected: intent.name, sample, text, slots, avoided };
      counts.sample += 1;
      await freshSession();
      await turn(fields, () => alexa.utter(text));
    }
  }

  for (const name of builtins) {
    counts.builtin += 1;
    await freshSession();
    await turn({ kind: "builtin", expected: name }, () => alexa.intend(name));
  }

  const table = BuiltinUtterances.values();
  for (const name of builtins) {
    for (const text of table[name] || []) {
      counts.phrase += 1;
      await freshSession();
      await turn({ kind: "phrase", expected: name, text }, () => alexa.utter(text));
    }
  }

  // Two turns in one session: a topic, then "repeat". The skill keeps its last
  // answer in session attributes, so the repeat only works if virtual-alexa
  // hands them back.
  const firstTopic = model.intents.find((i) => !i.name.startsWith("AMAZON.") && !(i.slots || []).length
    && (i.samples || []).some((s) => !LAUNCH_WORDS.test(s)));
  if (firstTopic) {
    const text = firstTopic.samples.find((s) => !LAUNCH_WORDS.test(s));
    await freshSession();
    const first = await turn({ kind: "followup", step: "topic", expected: firstTopic.name, text },
      () => alexa.utter(text));
    counts.followup += 1;
    if (first.ok && !first.should_end_session) {
      await turn({ kind: "followup", step: "repeat", expected: "AMAZON.RepeatIntent", text: "repeat" },
        () => alexa.utter("repeat"));
      counts.followup += 1;
    }
  }

  await freshSession();
  emit({ kind: "summary", ...counts });
}

main().catch((error) => {
  emit({ kind: "fatal", error: String(error && error.stack ? error.stack : error) });
  process.exit(1);
});
