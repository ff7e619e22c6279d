// The consultation note editor: a plain ES module, embeddable beside the video on the call page.
//
//   import { mountNoteEditor } from "/static/notes/editor.js";
//   mountNoteEditor(element, "/api/bookings/<consultation>/note", { csrf, labels, strings, readingKinds, units, enums });
//
// The editor reads and saves the note at the consultation's address. Opening a consultation nobody has
// written in yet creates nothing: the server answers an empty note (id null, version 0) and the first save
// (based on version 0) creates it. Signing, amending and sharing go to the note's own address (links.self)
// once it exists.
//
// The note's vocabulary (reading kinds with their units, the enums' values) comes from the page config,
// which the server renders from its one model: nothing of it is copied here.
//
// Never lose an edit: every change goes to localStorage at once and to the server after a pause in
// typing (debounced). Each save names the version it was based on; the server merges part by part and
// answers 409 with both texts when someone else changed the same part. Only when the server has
// acknowledged the text is it dropped from localStorage, so a dropped network or a closed tab loses
// nothing: the next time the page opens, the kept text is saved (and merged) first.
// The rules (merging, validation, signing) live on the server; this module only moves parts around.
//
// Never lose a word, on the server too: a part that breaks a rule (an evaluation date before the start
// date, a text past its limit) is kept by the server as this author's draft while every other part is
// saved. The note sent back carries those drafts; the editor shows the draft text in place of the stored
// one, marks the field (aria-invalid, the message beside it) and lists each problem once at the top.
//
// Written together, live: the editor keeps the note's WebSocket (/ws/consultations/<consultation>/note) open;
// it is the consultation's, so it works before the note exists and the first save reaches the others too. When somebody
// else's save lands, the server says so at once (version, parts, who; never the text): with nothing unsaved
// here the editor fetches the note and shows it; with unsaved text here it saves now, so the server merges
// part by part and a part both changed comes back as a conflict with both texts, as for any save. The
// editor also tells the others where its author is, whether they are typing and whether they hold unsaved
// text; signing asks first while somebody else is writing, and names the professions present whose part is
// still empty. Text that reaches the server after the note was signed becomes its author's draft
// amendment, which they go on writing and sign as an amendment.
//
// A screen never speaks for parts its author did not touch: the editor records the parts its author changed
// (typed in, added, removed, chose in a conflict) until the server acknowledges them, and any other part that
// differs from the base version is taken from the base before it is kept or sent (guardStale). So a screen
// drawn from an older version, or a copy kept mid-redraw, cannot remove or blank what somebody else saved.

const DEBOUNCE_MS = 1000;
const TYPING_MS = 2500;          // typing stops counting this long after the last keystroke
const DRAFT_SAVE_MS = 700;
const RECONNECT_MS = [500, 1000, 2000, 5000, 10000];
const RETRY_MS = 3000;
const PHYSICAL = ["mobility", "balance", "falls", "nutrition", "polypharmacy", "senses", "comment"];
const PSYCHOLOGICAL = ["mood", "anxiety", "sleep", "comment"];
const PSYCHOSOCIAL = ["network", "housing", "loneliness", "finances", "alcohol", "comment"];
const TEXT_KINDS = { physical: PHYSICAL, psychological: PSYCHOLOGICAL, psychosocial: PSYCHOSOCIAL };
const RISK_LISTS = ["causes", "proactive_measures", "reactive_measures", "consequences"];
const ACP_TEXTS = ["wishes_if_seriously_ill", "hospital_admission", "end_of_life", "who_present", "palliative_plan"];

// ------------------------------------------------------------------ the note as parts (mirrors notes/parts.py)

/** Canonical JSON (sorted keys), so two equal values compare equal. */
export function canon(value) {
  if (Array.isArray(value)) return `[${value.map(canon).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canon(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value === undefined ? null : value);
}

/** The note document as an ordered Map of part key → value (absent parts have no key). */
export function partsOf(doc) {
  const parts = new Map();
  if (doc.what_matters) parts.set("what_matters", doc.what_matters);
  for (const kind of ["physical", "psychological", "cognitive", "psychosocial"]) {
    if (doc.assessment && doc.assessment[kind]) parts.set(`assessment.${kind}`, doc.assessment[kind]);
  }
  for (const r of doc.risks || []) parts.set(`risks[${r.id}]`, r);
  for (const m of doc.measures || []) parts.set(`measures[${m.id}]`, m);
  if (doc.acp) parts.set("acp", doc.acp);
  for (const r of doc.readings || []) parts.set(`readings[${r.id}]`, r);
  for (const p of doc.profession_texts || []) parts.set(`profession_text[${p.profession}]`, p);
  return parts;
}

/** The inverse of partsOf. */
export function docFromParts(parts) {
  const doc = {
    schema: 1, what_matters: null, acp: null, risks: [], measures: [], readings: [], profession_texts: [],
    assessment: { physical: null, psychological: null, cognitive: null, psychosocial: null },
  };
  for (const [key, value] of parts) {
    const section = key.split("[")[0];
    if (key.startsWith("assessment.")) doc.assessment[key.slice(11)] = value;
    else if (section === "risks") doc.risks.push(value);
    else if (section === "measures") doc.measures.push(value);
    else if (section === "readings") doc.readings.push(value);
    else if (section === "profession_text") doc.profession_texts.push(value);
    else doc[key] = value;
  }
  return doc;
}

/** The note as the server keeps it for this reader: the stored content with the reader's drafts in place. */
export function serverDoc(note) {
  const parts = partsOf(note.content);
  for (const d of note.drafts || []) if (!d.after_signing) parts.set(d.part, d.content);
  return docFromParts(parts);
}

/** Characters of text in a document, counted as the server counts them (string values, code points). */
export function textChars(value) {
  if (typeof value === "string") return value.length - (value.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g) || []).length;
  if (Array.isArray(value)) return value.reduce((n, v) => n + textChars(v), 0);
  if (value && typeof value === "object") return Object.values(value).reduce((n, v) => n + textChars(v), 0);
  return 0;
}

/** The id of the form control showing ``field`` (a path inside the part) of part ``key``; null if none. */
export function controlId(key, field) {
  const section = key.split("[")[0];
  const id = key.includes("[") ? slug(key.slice(section.length + 1, -1)) : "";
  const name = field.replace(/\[\d+\]/g, "").split(".")[0];
  if (section === "what_matters") return name === "goals" ? "f-wm-goals" : "f-wm-own";
  if (section === "assessment.cognitive") return name === "level" ? "f-cognitive-level" : "f-cognitive-comment";
  if (section.startsWith("assessment.")) return name ? `f-${section.slice(11)}-${name}` : null;
  if (section === "risks") return `f-risk-${id}-${!name || name === "unwanted_event" || name === "id" ? "event" : name}`;
  if (section === "measures") {
    const cells = { what: "what", responsible: field.endsWith("name") ? "name" : "kind", start_date: "start", evaluation_date: "eval", status: "status" };
    return `f-m-${id}-${cells[name] || "what"}`;
  }
  if (section === "acp") return name === "talk_again_on" ? "f-acp-talk" : name ? `f-acp-${name}` : null;
  if (section === "profession_text") return `f-prof-${id}`;
  return null;
}

/** Every text in a part, in order (identities and codes left out): a part as a draft amendment's words. */
export function words(value) {
  const skip = new Set(["id", "kind", "status", "unit", "level", "profession", "taken_by"]);
  const out = [];
  const walk = (v, name) => {
    if (typeof v === "string") { if (!skip.has(name) && v.trim()) out.push(v); }
    else if (Array.isArray(v)) v.forEach((x) => walk(x, name));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(value, "");
  return out.join("\n");
}

/** The part key (or section) a form control belongs to, or null: what presence tells the others. */
export function partOf(el) {
  const id = (el && el.id) || "";
  if (id.startsWith("f-wm-")) return "what_matters";
  for (const kind of ["physical", "psychological", "cognitive", "psychosocial"]) if (id.startsWith(`f-${kind}-`)) return `assessment.${kind}`;
  if (id.startsWith("f-acp-")) return "acp";
  if (id.startsWith("f-reading-")) return "readings";
  const risk = el.closest && el.closest(".note-risk");
  if (risk && id.startsWith("f-risk-")) return `risks[${risk.dataset.id}]`;
  const row = el.closest && el.closest(".note-measures tbody tr");
  if (row && id.startsWith("f-m-")) return `measures[${row.dataset.id}]`;
  if (el.dataset && el.dataset.profession) return `profession_text[${el.dataset.profession}]`;
  if (el.dataset && el.dataset.draftPart) return el.dataset.draftPart;
  return null;
}

/** Bring the server's newer content into what is on screen without touching what was typed since sending. */
export function rebase(local, sent, server) {
  const l = partsOf(local), s = partsOf(sent), r = partsOf(server);
  const out = new Map();
  for (const key of new Set([...r.keys(), ...l.keys()])) {
    const untouched = canon(l.get(key)) === canon(s.get(key));
    const value = untouched ? r.get(key) : l.get(key);
    if (value !== undefined && value !== null) out.set(key, value);
  }
  return docFromParts(out);
}

/** The keys of the parts that differ between two documents. */
export function differingParts(a, b) {
  const pa = partsOf(a), pb = partsOf(b);
  return [...new Set([...pa.keys(), ...pb.keys()])].filter((key) => canon(pa.get(key)) !== canon(pb.get(key)));
}

/**
 * The screen as it may be saved: a part that differs from the base but that this author did not change here
 * takes the base's value. A screen drawn from an older version (or half redrawn) must never remove or blank
 * a part somebody else saved: only a part the author edited (typed in, added, removed) may differ.
 */
export function guardStale(local, base, edited) {
  const stale = differingParts(local, base).filter((key) => !edited.has(key));
  if (!stale.length) return { doc: local, stale };
  const l = partsOf(local), b = partsOf(base);
  const out = new Map();
  for (const key of new Set([...l.keys(), ...b.keys()])) {
    const value = stale.includes(key) ? b.get(key) : l.get(key);
    if (value !== undefined && value !== null) out.set(key, value);
  }
  return { doc: docFromParts(out), stale };
}

/** Whether two notes the server sent are the same consultation's note (one may predate its first save). */
function sameNote(a, b) {
  if (a.booking && b.booking) return a.booking === b.booking;
  return a.id === b.id;
}

function setPart(doc, key, value) {
  const parts = partsOf(doc);
  if (value === null || value === undefined) parts.delete(key);
  else parts.set(key, value);
  return docFromParts(parts);
}

function newId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------------------------------- DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") el.textContent = v;
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c);
  return el;
}

const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);
const slug = (key) => key.replace(/[^A-Za-z0-9_-]/g, "-");

class NoteEditor {
  constructor(root, noteUrl, options) {
    this.root = root;
    this.noteUrl = noteUrl;
    this.csrf = options.csrf || "";
    this.L = options.labels || {};
    this.S = options.strings || {};
    this.kinds = options.readingKinds || [];  // [{kind, label, ucum, unit, paired}], in the order offered
    this.units = options.units || {};         // UCUM code → how it reads on screen
    this.enums = options.enums || {};         // cognitiveLevel, responsible, measureStatus: lists of codes
    this.storageKey = `samkonsult-note:${noteUrl}`;
    this.lang = options.lang || "nb";
    this.note = null;            // the last note the server sent
    this.baseVersion = 0;        // the version the screen is based on
    this.baseDoc = null;         // the content of that version
    this.conflicts = [];         // unresolved conflicts: {part, theirs_text, mine_text, mine}
    this.timer = null;
    this.inFlight = false;
    this.saving = null;          // the promise of the save in flight, if any
    this.again = false;
    this.drafts = { risks: [], measures: [] };
    this.socket = null;          // the note's live socket
    this.editorId = null;        // this editor's id among the note's open editors
    this.present = [];           // everyone who has the note open: {editor, id, name, profession, part, typing, unsaved}
    this.sentPresence = "";
    this.typing = false;
    this.typingTimer = null;
    this.reconnects = 0;
    this.fetching = false;
    this.lastPart = null;        // the part this author was last in (where their text goes after signing)
    this.draftTimers = new Map();
    this.edited = new Set();     // parts this author changed here that the server has not acknowledged yet
    this.rendering = false;      // true while render() swaps the form (events then come from the old one)
    this.seenVersion = 0;        // the newest version announced while a save was on its way
    // A form control removed while focused fires "change" in the middle of render(), when this.baseDoc is
    // already the new version but the old form is still what collect() reads: such an event carries no new
    // text (the "input" events did) and must not be taken for an edit.
    root.addEventListener("input", (e) => {
      if (this.rendering) return;
      if (!e.target.dataset.draftPart) { this.markEdited(partOf(e.target)); this.changed(); }
      this.typed(e.target);
    });
    root.addEventListener("change", (e) => {
      if (this.rendering || e.target.dataset.draftPart) return;
      this.markEdited(partOf(e.target));
      this.changed();
    });
    root.addEventListener("focusin", (e) => { this.lastPart = partOf(e.target) || this.lastPart; this.tellPresence(); });
    root.addEventListener("focusout", () => setTimeout(() => this.tellPresence(), 0));
    window.addEventListener("online", () => this.saveSoon(0));
  }

  l(key) { return this.L[key] || key; }
  s(key) { return this.S[key] || key; }
  enumValues(name) { return this.enums[name] || []; }
  kind(code) { return this.kinds.find((k) => k.kind === code); }
  readingName(r) { return r.name || this.kind(r.kind)?.label || this.l(`reading.${r.kind}`); }

  // ---------------------------------------------------------------------------------- loading

  async start() {
    let kept = this.kept();
    try {
      const resp = await fetch(this.noteUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!resp.ok) throw new Error(await this.problem(resp));
      this.note = await resp.json();
    } catch (err) {
      if (!kept) { this.root.replaceChildren(h("p", { role: "alert", text: `${this.s("error")} ${err.message}` })); return; }
      this.note = kept.note;
    }
    kept = kept || this.keptUnderNoteId();
    // The same consultation's note: a copy kept before the first save has no note id, and is still this note.
    if (kept && kept.note && sameNote(kept.note, this.note) && !this.locked()) {
      // Text typed before a closed tab or a lost connection: show it and save it (the server merges).
      this.baseVersion = kept.baseVersion;
      this.baseDoc = kept.baseDoc;
      this.conflicts = kept.conflicts || [];
      // Copies kept before the edited parts were recorded: count what was changed or added as edited, never a
      // removal (a removed part comes back, which loses nothing).
      const kl = partsOf(kept.local);
      this.edited = new Set(Array.isArray(kept.edited) ? kept.edited
        : differingParts(kept.local, kept.baseDoc).filter((key) => kl.has(key)));
      this.render(guardStale(kept.local, this.baseDoc, this.edited).doc);
      this.setStatus("unsaved");
      this.saveSoon(0);
    } else {
      this.baseVersion = this.note.version;
      this.baseDoc = serverDoc(this.note);
      this.render(this.baseDoc);
      this.setStatus(this.settledStatus());
    }
    this.connect();
  }

  // ---------------------------------------------------------------------------------- live

  connect() {
    if (!this.note || !this.note.booking) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws/consultations/${encodeURIComponent(this.note.booking)}/note?csrf=${encodeURIComponent(this.csrf)}`);
    this.socket = ws;
    ws.addEventListener("open", () => {
      this.reconnects = 0;
      this.sentPresence = "";
      this.tellPresence();
      // After a reconnect, saves made while the socket was down were not announced: look once.
      if (this.connectedOnce) this.noteChanged(Infinity);
      this.connectedOnce = true;
    });
    ws.addEventListener("message", (e) => {
      let frame;
      try { frame = JSON.parse(e.data); } catch { return; }
      if (frame.type === "hello") { this.editorId = frame.editor; this.showPresence(); }
      else if (frame.type === "presence") { this.present = frame.editors; this.showPresence(); }
      else if (frame.type === "changed") this.noteChanged(frame.version, frame.kind);
    });
    ws.addEventListener("close", (e) => {
      if (this.socket !== ws) return;
      this.socket = null;
      this.present = [];
      this.showPresence();
      if (e.code === 4003) return;  // the session ended or no longer gives access: the page says so on reload
      const wait = RECONNECT_MS[Math.min(this.reconnects++, RECONNECT_MS.length - 1)];
      setTimeout(() => this.connect(), wait);
    });
  }

  /** Another editor saved (or signed): fetch and show it, or save what is here first so the server merges. */
  async noteChanged(version, kind = "saved") {
    if (version !== Infinity && version <= this.baseVersion && kind === "saved") return;
    if (this.fetching) { this.refetch = true; return; }
    if (!this.locked() && (this.inFlight || canon(this.screen()) !== canon(this.baseDoc))) {
      // Unsaved text here: the save is merged with theirs on the server (conflicts come back with both texts).
      // A save on its way may have been merged before this version was stored: look again once it is back.
      if (this.inFlight) { this.again = true; this.seenVersion = Math.max(this.seenVersion, version); }
      else this.saveSoon(0);
      return;
    }
    this.fetching = true;
    try {
      const before = canon(this.collect());
      const resp = await fetch(this.noteUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!resp.ok) return;
      const latest = await resp.json();
      if (canon(this.collect()) !== before && !this.locked()) { this.saveSoon(0); return; }  // typed meanwhile
      const wasLocked = this.locked();
      this.note = latest;
      this.baseVersion = latest.version;
      this.baseDoc = serverDoc(latest);
      this.edited.clear();
      this.render(this.baseDoc);
      if (!wasLocked && this.locked()) this.afterSigning();
      else if (!this.locked()) this.setStatus(this.settledStatus());
    } finally {
      this.fetching = false;
      if (this.refetch) { this.refetch = false; this.noteChanged(Infinity); }
    }
  }

  /** The note was signed while this author was in it: their next words go to a draft amendment of that part. */
  afterSigning() {
    localStorage.removeItem(this.storageKey);
    const part = this.lastPart;
    if (!this.may("amend") || !part) return;
    if (!(this.note.drafts || []).some((d) => d.part === part)) {
      this.note.drafts = [...(this.note.drafts || []), { part, after_signing: true, amends: part, content: "", errors: [] }];
      this.render(this.note.content);
    }
    const box = this.root.querySelector(`textarea[data-draft-part="${CSS.escape(part)}"]`);
    if (box) { box.focus(); box.setSelectionRange(box.value.length, box.value.length); }
    this.say(this.s("signed_meanwhile"));
  }

  typed(target) {
    this.lastPart = partOf(target) || this.lastPart;
    this.typing = true;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => { this.typing = false; this.tellPresence(); }, TYPING_MS);
    this.tellPresence();
  }

  tellPresence() {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    const focused = this.root.contains(document.activeElement) ? partOf(document.activeElement) : null;
    const unsaved = Boolean(this.note && !this.locked() && this.baseDoc && canon(this.screen()) !== canon(this.baseDoc));
    const frame = { type: "presence", part: focused, typing: this.typing, unsaved };
    const text = JSON.stringify(frame);
    if (text === this.sentPresence) return;
    this.sentPresence = text;
    this.socket.send(text);
  }

  /** The others who have the note open (not this editor). */
  others() { return this.present.filter((p) => p.editor !== this.editorId); }

  /** Others who are typing or hold text not yet saved: signing now would take their words out of the note. */
  othersWriting() { return this.others().filter((p) => p.may_write && (p.typing || p.unsaved)); }

  /** Professions present (this author too) whose own text in the note is still empty. */
  missingProfessions() {
    const written = new Set(((this.collect().profession_texts) || []).filter((t) => t.text.trim()).map((t) => t.profession));
    const present = [...new Set(this.present.filter((p) => p.may_write && p.profession).map((p) => p.profession))];
    return present.filter((p) => !written.has(p));
  }

  professionName(p) { return this.L[`profession.${p}`] || p; }

  showPresence() {
    const box = this.root.querySelector(".note-presence");
    if (box) {
      const items = this.others().map((p) => {
        const where = p.part ? ` · ${this.s(p.typing ? "typing_in" : "is_in")} ${this.partTitle(p.part)}` : "";
        const unsaved = p.unsaved && !p.typing ? ` · ${this.s("has_unsaved")}` : "";
        return h("li", { "data-editor": p.editor, "data-typing": p.typing ? "true" : "false" },
          `${p.name} (${this.professionName(p.profession)})${where}${unsaved}`);
      });
      box.replaceChildren(...(items.length ? [h("p", { text: this.s("also_here") }), h("ul", {}, ...items)] : []));
    }
    for (const el of this.root.querySelectorAll(".note-typing")) el.remove();
    for (const p of this.others()) {
      if (!p.part || !p.typing) continue;
      const section = p.part.startsWith("assessment.") ? "assessment" : p.part.split("[")[0].replace("profession_text", "profession_texts");
      const heading = this.root.querySelector(`#h-${section}`);
      if (heading) heading.after(h("p", { class: "note-typing", text: `${p.name} ${this.s("is_typing")}` }));
    }
    const missing = this.root.querySelector(".note-missing");
    if (missing) {
      const names = this.locked() ? [] : this.missingProfessions().map((p) => this.professionName(p));
      missing.textContent = names.length ? `${this.s("not_written")} ${names.join(", ")}` : "";
    }
  }

  /** Asked before signing: who is still writing, and which professions present have not written their part. */
  signQuestion() {
    const lines = [this.s("sign_confirm")];
    const writing = this.othersWriting();
    if (writing.length) {
      lines.push(`${this.s("others_writing")} ${writing.map((p) => `${p.name} (${this.professionName(p.profession)})`).join(", ")}.`);
      lines.push(this.s("others_writing_kept"));
    }
    const missing = this.missingProfessions().map((p) => this.professionName(p));
    if (missing.length) lines.push(`${this.s("not_written")} ${missing.join(", ")}.`);
    return lines.join("\n\n");
  }

  afterSigningDrafts() { return (this.note && this.note.drafts || []).filter((d) => d.after_signing); }

  /** The author's draft amendments: text written after signing, kept on the server as it is typed. */
  draftAmendments() {
    const drafts = this.afterSigningDrafts();
    if (!drafts.length) return "";
    const box = h("section", { class: "note-draft-amendments", "aria-labelledby": "h-draft-amendments" },
      h("h3", { id: "h-draft-amendments", text: this.s("draft_amendments") }), h("p", { text: this.s("draft_amendments_help") }));
    for (const d of drafts) {
      const id = `f-adraft-${slug(d.part)}`;
      const text = this.textarea(id, typeof d.content === "string" ? d.content : "", { rows: 4, "data-draft-part": d.part });
      text.addEventListener("input", () => this.keepDraftSoon(d.part, text));
      const sign = h("button", { type: "button", class: "note-draft-sign", text: this.s("sign_amendment") });
      sign.addEventListener("click", async () => {
        clearTimeout(this.draftTimers.get(d.part));
        try { await this.post("/amendments", { part: d.amends || d.part, text: text.value, draft: d.part }); }
        catch (e) { this.say(e.message); }
      });
      box.append(h("div", { class: "note-draft-amendment", "data-part": d.part },
        this.field(id, this.partTitle(d.part), text), sign));
    }
    return box;
  }

  keepDraftSoon(part, textarea) {
    clearTimeout(this.draftTimers.get(part));
    this.setStatus("unsaved");
    this.draftTimers.set(part, setTimeout(() => this.keepDraft(part, textarea.value), DRAFT_SAVE_MS));
  }

  async keepDraft(part, text) {
    try {
      const resp = await fetch(`${this.noteApi()}/amendment-drafts`, {
        method: "PUT", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrf, Accept: "application/json" },
        body: JSON.stringify({ part, text }),
      });
      if (!resp.ok) throw new Error(await this.problem(resp));
      const note = await resp.json();
      // Keep the screen as it is (the author is typing); only the kept drafts and the status change.
      this.note = { ...note, drafts: [...note.drafts, ...this.afterSigningDrafts().filter((d) => !note.drafts.some((x) => x.part === d.part) && d.part !== part)] };
      this.setStatus("draft_kept");
    } catch (e) {
      this.setStatus("error", e.message);
      this.draftTimers.set(part, setTimeout(() => this.keepDraft(part, text), RETRY_MS));
    }
  }

  kept(key = this.storageKey) {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch { return null; }
  }

  /** A copy kept by an editor that named the note by its own address (before it opened at the consultation's):
   *  taken over under this editor's key, so it is saved like any kept copy and found only once. */
  keptUnderNoteId() {
    if (!this.note || !this.note.id) return null;
    const key = `samkonsult-note:/api/notes/${this.note.id}`;
    const kept = key === this.storageKey ? null : this.kept(key);
    if (kept) { localStorage.setItem(this.storageKey, JSON.stringify(kept)); localStorage.removeItem(key); }
    return kept;
  }

  /** Where the existing note's own actions go (sign, amend, share); the consultation's address before that. */
  noteApi() { return this.note && this.note.id ? this.note.links.self : this.noteUrl; }

  keep(local) {
    localStorage.setItem(this.storageKey, JSON.stringify({
      note: this.note, baseVersion: this.baseVersion, baseDoc: this.baseDoc, local, conflicts: this.conflicts,
      edited: [...this.edited],
    }));
  }

  /** A part the author changed here (typed in, added, removed, chose their text in a conflict). */
  markEdited(part) {
    if (part && part !== "readings") this.edited.add(part);
  }

  /** What is on screen, with any part this author did not edit held to the base (see guardStale). */
  screen() {
    const doc = this.collect();
    return this.baseDoc ? guardStale(doc, this.baseDoc, this.edited).doc : doc;
  }

  /** The screen, redrawn first if it showed a part the author did not edit differently from the base. */
  truthfulScreen() {
    const doc = this.collect();
    if (!this.baseDoc) return doc;
    const guarded = guardStale(doc, this.baseDoc, this.edited);
    if (!guarded.stale.length) return doc;
    this.render(guarded.doc);
    return this.collect();
  }

  /** Forget edits the server now holds: parts whose text on screen is the base's. */
  settleEdited() {
    const differing = new Set(differingParts(this.collect(), this.baseDoc));
    for (const key of [...this.edited]) if (!differing.has(key)) this.edited.delete(key);
  }

  locked() { return !this.note || this.note.status !== "preliminary"; }

  /** The status once the server has everything on screen: saved, or saved with parts kept to fix. */
  settledStatus() {
    return (this.note && this.note.drafts || []).some((d) => !d.after_signing) ? "kept_drafts" : "saved";
  }
  may(action) { return Boolean(this.note && this.note.permissions.includes(action)); }

  // ---------------------------------------------------------------------------------- saving

  changed() {
    if (this.locked() || !this.may("save")) return;
    this.refreshDiagrams();
    const doc = this.truthfulScreen();
    this.keep(doc);
    this.showSize(doc);
    this.setStatus(navigator.onLine ? "unsaved" : "offline");
    this.saveSoon(DEBOUNCE_MS);
    this.showPresence();
  }

  saveSoon(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), delay);
  }

  /** Save now (used before signing); resolves once the server has what is on screen, or rejects. */
  async flush() {
    clearTimeout(this.timer);
    while (this.saving) await this.saving;
    await this.save();
    while (this.saving) await this.saving;
    if (this.conflicts.length || canon(this.screen()) !== canon(this.baseDoc)) throw new Error(this.s("unsaved"));
  }

  save() {
    if (this.locked() || !this.may("save")) return Promise.resolve();
    if (this.inFlight) { this.again = true; return this.saving; }
    this.saving = this.send().finally(() => { this.saving = null; });
    return this.saving;
  }

  async send() {
    const sent = this.truthfulScreen();
    if (canon(sent) === canon(this.baseDoc) && !this.conflicts.length) {
      localStorage.removeItem(this.storageKey);
      // Nothing new to send, but what the server kept as drafts still needs fixing: say so, not just "saved".
      this.setStatus(this.settledStatus());
      return;
    }
    this.inFlight = true;
    this.setStatus("saving");
    let resp;
    try {
      resp = await fetch(this.noteUrl, {
        method: "PUT", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrf, Accept: "application/json" },
        body: JSON.stringify({ based_on: this.baseVersion, content: sent }),
      });
    } catch {
      // No answer: the text stays in localStorage and goes again when the connection is back.
      this.inFlight = false;
      this.setStatus("offline");
      this.saveSoon(RETRY_MS);
      return;
    }
    this.inFlight = false;
    if (resp.status === 200 || (resp.status === 409 && resp.headers.get("Content-Type")?.startsWith("application/json"))) {
      const body = await resp.json();
      this.accept(body, sent);
    } else {
      const message = await this.problem(resp);
      if (resp.status === 409) await this.reload();
      this.setStatus("error", message);
      if (resp.status >= 500) this.saveSoon(RETRY_MS);
      return;
    }
    if (this.again) { this.again = false; this.saveSoon(0); }
    if (this.seenVersion > this.baseVersion) this.noteChanged(this.seenVersion);
    this.seenVersion = 0;
  }

  accept(body, sent) {
    if (body.note.status !== "preliminary") {
      // Signed before this save arrived: what was sent is kept as the author's draft amendments.
      this.note = body.note;
      this.baseVersion = body.version;
      this.baseDoc = serverDoc(body.note);
      this.conflicts = [];
      const local = partsOf(this.collect()), was = partsOf(sent);
      this.render(this.baseDoc);
      this.afterSigning();
      // Keystrokes that came while this save was on its way are not in the kept draft yet: put them there.
      for (const [key, value] of local) {
        if (canon(value) === canon(was.get(key))) continue;
        const box = this.root.querySelector(`textarea[data-draft-part="${CSS.escape(key)}"]`);
        if (!box) continue;
        box.value = key.startsWith("profession_text[") ? value.text : words(value);
        this.keepDraftSoon(key, box);
      }
      return;
    }
    const server = serverDoc(body.note);
    const local = this.truthfulScreen();
    const merged = rebase(local, sent, server);
    this.note = body.note;
    this.baseVersion = body.version;
    this.baseDoc = server;
    for (const c of body.conflicts || []) {
      this.conflicts = this.conflicts.filter((x) => x.part !== c.part);
      this.conflicts.push({ part: c.part, theirs_text: c.theirs_text, mine_text: c.mine_text, mine: c.mine });
    }
    if (canon(merged) !== canon(local)) this.render(merged);
    else { this.renderConflicts(); this.markProblems(); }
    this.settleEdited();
    const pending = canon(this.collect()) !== canon(this.baseDoc);
    if (pending || this.conflicts.length) this.keep(this.collect());
    else localStorage.removeItem(this.storageKey);
    this.setStatus(pending ? "unsaved" : this.settledStatus());
    if (pending) this.saveSoon(DEBOUNCE_MS);
    this.tellPresence();
  }

  async reload() {
    const resp = await fetch(this.noteUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!resp.ok) return;
    const local = this.screen(), before = this.baseDoc;
    this.note = await resp.json();
    this.baseVersion = this.note.version;
    this.baseDoc = serverDoc(this.note);
    // What the author changed stays; everything else shows the stored version (never the older screen).
    this.render(this.locked() ? this.note.content : rebase(local, before, this.baseDoc));
    this.settleEdited();
  }

  /** A message in the signing area (found afresh: a render may have replaced the one that was there). */
  say(text) {
    const el = this.root.querySelector(".note-message");
    if (el) el.textContent = text;
  }

  /** Before signing: the signer must have seen the latest version; if not, show it and ask to sign again. */
  async checkLatest() {
    const resp = await fetch(this.noteUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!resp.ok) throw new Error(await this.problem(resp));
    const latest = await resp.json();
    if (latest.version === this.baseVersion) return;
    const merged = rebase(this.screen(), this.baseDoc, serverDoc(latest));
    this.note = latest;
    this.baseVersion = latest.version;
    this.baseDoc = serverDoc(latest);
    this.render(merged);
    this.settleEdited();
    this.setStatus(canon(merged) === canon(this.baseDoc) ? this.settledStatus() : "unsaved");
    throw new Error(this.s("changed_before_sign"));
  }

  async problem(resp) {
    try {
      const p = await resp.json();
      const fields = (p.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
      return [p.title, p.detail, fields].filter(Boolean).join(" — ");
    } catch { return `HTTP ${resp.status}`; }
  }

  async post(path, body) {
    const resp = await fetch(`${this.noteApi()}${path}`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrf, Accept: "application/json" },
      body: JSON.stringify(body),
    });
    if (!resp.ok) throw new Error(await this.problem(resp));
    this.note = await resp.json();
    this.baseVersion = this.note.version;
    this.baseDoc = serverDoc(this.note);
    this.edited.clear();
    this.render(this.baseDoc, { keepTyped: false });
  }

  /** Sign; when something blocks it, list exactly what (each with a link to its field) and stay unsigned. */
  async signNow() {
    if (!this.note.id) throw new Error(this.s("empty_sign"));  // nothing was ever saved: there is no note yet
    const resp = await fetch(`${this.noteApi()}/sign`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrf, Accept: "application/json" },
      body: "{}",
    });
    if (resp.status === 409) {
      const p = await resp.clone().json().catch(() => ({}));
      if (Array.isArray(p.blockers)) { this.showBlockers(p.title, p.blockers); return false; }
    }
    if (!resp.ok) throw new Error(await this.problem(resp));
    this.note = await resp.json();
    this.baseVersion = this.note.version;
    this.baseDoc = serverDoc(this.note);
    this.edited.clear();
    this.render(this.baseDoc);
    return true;
  }

  showBlockers(title, blockers) {
    const box = this.root.querySelector(".note-blockers");
    if (!box) return;
    const seen = new Set();
    const items = [];
    for (const b of blockers) {
      const key = `${b.part}|${b.field}|${b.code}|${b.author?.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const who = b.author && b.author.name !== this.root.dataset.me ? ` (${b.author.name})` : "";
      items.push(h("li", {}, this.problemLink(b.part, b.field, `${this.partTitle(b.part)}: ${b.message}${who}`)));
    }
    box.replaceChildren(h("p", { text: title }), h("ul", {}, ...items));
    box.focus();
  }

  /** A link to the field of a problem: it moves focus there (the field, or its section when it has none). */
  problemLink(part, field, text) {
    const target = controlId(part, field);
    const section = part.startsWith("assessment.") ? "assessment" : part.split("[")[0].replace("profession_text", "profession_texts");
    const id = target && document.getElementById(target) ? target : `h-${section}`;
    const a = h("a", { href: `#${id}`, text });
    a.addEventListener("click", (e) => {
      const el = document.getElementById(id);
      if (!el) return;
      e.preventDefault();
      if (!el.matches("input, select, textarea")) el.setAttribute("tabindex", "-1");
      el.focus();
    });
    return a;
  }

  /** Mark every field the server kept as a draft: aria-invalid, the message beside it, and a list at the top. */
  markProblems() {
    for (const el of this.root.querySelectorAll(".field-error")) el.remove();
    for (const el of this.root.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    }
    if (!this.problemsEl) return;
    this.problemsEl.replaceChildren();
    const drafts = ((this.note && this.note.drafts) || []).filter((d) => !d.after_signing);
    if (!drafts.length) return;
    const items = [];
    const seen = new Set();
    for (const d of drafts) {
      for (const e of d.errors) {
        const key = `${d.part}|${e.field}|${e.code}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const control = document.getElementById(controlId(d.part, e.field) || "");
        if (control && this.root.contains(control)) {
          const msgId = `err-${slug(d.part)}-${seen.size}`;
          const described = [control.getAttribute("aria-describedby"), msgId].filter(Boolean).join(" ");
          control.setAttribute("aria-invalid", "true");
          control.setAttribute("aria-describedby", described);
          const message = h("p", { class: "field-error", id: msgId, text: e.message });
          (control.closest(".field") || control.parentElement).append(message);
        }
        items.push(h("li", {}, this.problemLink(d.part, e.field, `${this.partTitle(d.part)}: ${e.message}`)));
      }
    }
    this.problemsEl.append(h("h2", { id: "h-problems", text: this.s("problems_title") }), h("ul", {}, ...items));
  }

  /** "x of y characters used", and a warning past the limit (the server keeps what does not fit as a draft). */
  showSize(doc) {
    if (!this.sizeEl || !this.note) return;
    const limit = (this.note.limits && this.note.limits.note_chars) || 0;
    if (!limit) return;
    const used = textChars(doc);
    const fmt = (n) => n.toLocaleString(this.lang === "en" ? "en-GB" : "nb-NO");
    this.sizeEl.textContent = this.s("chars_used").replace("{used}", fmt(used)).replace("{limit}", fmt(limit))
      + (used > limit ? ` ${this.s("chars_over")}` : "");
    this.sizeEl.classList.toggle("over", used > limit);
  }

  setStatus(kind, detail = "") {
    if (!this.statusEl) return;
    this.statusEl.dataset.state = kind;
    this.statusEl.textContent = kind === "error" ? `${this.s("error")} ${detail}` : this.s(kind);
  }

  // ---------------------------------------------------------------------------------- rendering

  render(doc, { keepTyped = true } = {}) {
    // Text being written into a draft amendment or an amendment is not part of the note: carry it over.
    const typed = keepTyped ? [...this.root.querySelectorAll("textarea[data-draft-part], #f-amend-text, #f-amend-part")]
      .map((el) => [el.id, el.value]) : [];
    const focused = document.activeElement && this.root.contains(document.activeElement) ? document.activeElement : null;
    const focusId = focused ? focused.id : null;
    const selection = focused && "selectionStart" in focused ? [focused.selectionStart, focused.selectionEnd] : null;
    this.readings = [...(doc.readings || [])];
    const readOnly = this.locked() || !this.may("save");
    const form = h("form", { class: "note-form", novalidate: true });
    form.addEventListener("submit", (e) => e.preventDefault());
    this.statusEl = this.statusEl || h("p", { class: "note-status", role: "status", "aria-live": "polite" });
    this.conflictsEl = h("div", { class: "note-conflicts" });
    this.problemsEl = h("section", { class: "note-problems", "aria-labelledby": "h-problems" });
    this.sizeEl = h("p", { class: "note-size", id: "note-size" });
    // Status, exports and the signing area stay usable on a locked note; the content does not.
    const fields = h("fieldset", { class: "note-fields", disabled: readOnly },
      h("legend", { class: "visually-hidden", text: this.l("title") }),
      this.whatMatters(doc), this.assessment(doc), this.risks(doc), this.measures(doc), this.acp(doc),
      this.readingsSection(), this.professions(doc));
    this.presenceEl = h("div", { class: "note-presence", "aria-live": "polite" });
    form.append(this.toolbar(), this.presenceEl, this.statusEl, this.problemsEl, this.conflictsEl, fields, readOnly ? "" : this.sizeEl,
      this.signing());
    this.rendering = true;
    try { this.root.replaceChildren(form); } finally { this.rendering = false; }
    for (const [id, value] of typed) {
      const el = document.getElementById(id);
      if (el && this.root.contains(el) && el.value !== value && (el.tagName !== "SELECT" || [...el.options].some((o) => o.value === value))) el.value = value;
    }
    this.renderConflicts();
    this.refreshDiagrams();
    this.markProblems();
    this.showSize(doc);
    this.showPresence();
    if (readOnly && this.locked()) this.setStatus("locked");
    if (focusId) {
      const again = document.getElementById(focusId);
      if (again) {
        this.rendering = true;
        try {
          again.focus();
          if (selection && "setSelectionRange" in again) try { again.setSelectionRange(...selection); } catch { /* not a text field */ }
        } finally { this.rendering = false; }
      }
    }
  }

  field(id, label, control) {
    return h("div", { class: "field" }, h("label", { for: id, text: label }), control);
  }

  textarea(id, value, attrs = {}) {
    // No maxlength: a browser would cut pasted text silently. Past its limit the server keeps the text as a
    // draft and says so at the field.
    return h("textarea", { id, rows: 2, ...attrs, value: value || "" });
  }

  section(key, title, ...content) {
    return h("section", { class: `note-section note-${key}`, "aria-labelledby": `h-${key}` },
      h("h2", { id: `h-${key}`, text: title }), ...content);
  }

  toolbar() {
    const n = this.note;
    const badge = h("span", { class: "badge", text: `${this.l(`status.${n.status}`)} · ${this.s("version")} ${n.version}` });
    if (!n.id) return h("nav", { class: "note-toolbar", "aria-label": this.s("exports") }, badge);  // nothing to export yet
    return h("nav", { class: "note-toolbar", "aria-label": this.s("exports") }, badge,
      h("a", { href: n.links.pdf, text: this.s("export_pdf") }),
      h("a", { href: n.links.text, text: this.s("export_text") }),
      h("a", { href: n.links.fhir, text: this.s("export_fhir") }),
      h("a", { href: n.links.print, text: this.s("print") }));
  }

  whatMatters(doc) {
    const wm = doc.what_matters || { own_words: "", goals: [] };
    return this.section("what_matters", this.l("what_matters"),
      this.field("f-wm-own", this.l("what_matters.own_words"), this.textarea("f-wm-own", wm.own_words, { rows: 3 })),
      this.field("f-wm-goals", `${this.l("what_matters.goals")} (${this.s("one_per_line")})`,
        this.textarea("f-wm-goals", wm.goals.join("\n"))));
  }

  assessment(doc) {
    const a = doc.assessment || {};
    const groups = [];
    for (const [kind, names] of Object.entries(TEXT_KINDS)) {
      const v = a[kind] || {};
      groups.push(h("fieldset", { class: "note-kind" }, h("legend", { text: this.l(`assessment.${kind}`) }),
        ...names.map((n) => this.field(`f-${kind}-${n}`, this.l(`field.${n}`), this.textarea(`f-${kind}-${n}`, v[n], { rows: 1 })))));
    }
    const c = a.cognitive || { level: "unknown", comment: "" };
    const select = h("select", { id: "f-cognitive-level" },
      ...this.enumValues("cognitiveLevel").map((lvl) => h("option", { value: lvl, text: this.l(`cognitive.${lvl}`), selected: lvl === c.level })));
    groups.splice(2, 0, h("fieldset", { class: "note-kind" }, h("legend", { text: this.l("assessment.cognitive") }),
      this.field("f-cognitive-level", this.l("field.level"), select),
      this.field("f-cognitive-comment", this.l("field.comment"), this.textarea("f-cognitive-comment", c.comment, { rows: 1 }))));
    return this.section("assessment", this.l("assessment"), h("div", { class: "note-kinds" }, ...groups));
  }

  risks(doc) {
    const list = h("div", { class: "note-risks" });
    for (const r of [...(doc.risks || []), ...this.drafts.risks]) list.append(this.risk(r));
    const add = h("button", { type: "button", text: this.s("add_risk") });
    add.addEventListener("click", () => {
      list.append(this.risk({ id: newId(), unwanted_event: "", causes: [], consequences: [], proactive_measures: [], reactive_measures: [] }));
      list.lastElementChild.querySelector("input").focus();
    });
    return this.section("risks", this.l("risks"), list, add);
  }

  risk(r) {
    const id = slug(r.id);
    const box = h("div", { class: "note-risk", "data-id": r.id });
    box.append(
      this.field(`f-risk-${id}-event`, this.l("risk.unwanted_event"),
        h("input", { id: `f-risk-${id}-event`, type: "text", value: r.unwanted_event })),
      h("div", { class: "note-risk-lists" }, ...RISK_LISTS.map((k) => this.field(`f-risk-${id}-${k}`,
        `${this.l(`risk.${k}`)} (${this.s("one_per_line")})`, this.textarea(`f-risk-${id}-${k}`, r[k].join("\n"), { rows: 3 })))),
      h("figure", { class: "bowtie", "data-diagram": r.id }),
      this.removeButton(box));
    return box;
  }

  /** The bow-tie: causes → (proactive measures) → the event → (reactive measures) → consequences. */
  refreshDiagrams() {
    for (const fig of this.root.querySelectorAll("figure.bowtie")) {
      const box = fig.closest(".note-risk");
      const id = slug(box.dataset.id);
      const get = (k) => lines(box.querySelector(`#f-risk-${id}-${k}`).value);
      const event = box.querySelector(`#f-risk-${id}-event`).value.trim();
      const column = (cls, title, items) => h("div", { class: `bowtie-col ${cls}` },
        h("p", { class: "bowtie-title", text: title }), h("ul", {}, ...items.map((t) => h("li", { text: t }))));
      const arrow = (cls, title, items) => h("div", { class: `bowtie-arrow ${cls}` },
        h("p", { class: "bowtie-title", text: `${title} →` }), h("ul", {}, ...items.map((t) => h("li", { text: t }))));
      fig.replaceChildren(
        h("div", { class: "bowtie-grid" },
          column("causes", this.l("risk.causes"), get("causes")),
          arrow("proactive", this.l("risk.proactive_measures"), get("proactive_measures")),
          h("div", { class: "bowtie-knot" }, h("p", { text: event || "…" })),
          arrow("reactive", this.l("risk.reactive_measures"), get("reactive_measures")),
          column("consequences", this.l("risk.consequences"), get("consequences"))),
        h("figcaption", { text: `${this.l("risks")}: ${event}` }));
    }
  }

  measures(doc) {
    const body = h("tbody");
    for (const m of [...(doc.measures || []), ...this.drafts.measures]) body.append(this.measure(m));
    const head = h("thead", {}, h("tr", {}, ...[this.s("what"), this.l("measure.responsible"), this.s("responsible_name"),
      this.l("measure.start_date"), this.l("measure.evaluation_date"), this.l("measure.status"), ""].map((t) => h("th", { scope: "col", text: t }))));
    const add = h("button", { type: "button", text: this.s("add_measure") });
    add.addEventListener("click", () => {
      body.append(this.measure({ id: newId(), what: "", responsible: { kind: "home_care", name: "" }, start_date: null, evaluation_date: null, status: "planned" }));
      body.lastElementChild.querySelector("input").focus();
    });
    return this.section("measures", this.l("measures"), h("div", { class: "table-scroll" }, h("table", { class: "note-measures" }, head, body)), add);
  }

  measure(m) {
    const id = slug(m.id);
    const row = h("tr", { "data-id": m.id });
    const cell = (suffix, control, label) => h("td", {}, h("label", { class: "visually-hidden", for: `f-m-${id}-${suffix}`, text: label }), control);
    row.append(
      cell("what", h("input", { id: `f-m-${id}-what`, type: "text", value: m.what }), this.s("what")),
      cell("kind", h("select", { id: `f-m-${id}-kind` }, ...this.enumValues("responsible").map((k) => h("option", { value: k, text: this.l(`responsible.${k}`), selected: k === m.responsible.kind }))), this.l("measure.responsible")),
      cell("name", h("input", { id: `f-m-${id}-name`, type: "text", value: m.responsible.name }), this.s("responsible_name")),
      cell("start", h("input", { id: `f-m-${id}-start`, type: "date", value: m.start_date || "" }), this.l("measure.start_date")),
      cell("eval", h("input", { id: `f-m-${id}-eval`, type: "date", value: m.evaluation_date || "" }), this.l("measure.evaluation_date")),
      cell("status", h("select", { id: `f-m-${id}-status` }, ...this.enumValues("measureStatus").map((k) => h("option", { value: k, text: this.l(`measure_status.${k}`), selected: k === m.status }))), this.l("measure.status")),
      h("td", {}, this.removeButton(row)));
    return row;
  }

  removeButton(el) {
    const b = h("button", { type: "button", class: "note-remove", text: this.s("remove") });
    b.addEventListener("click", () => {
      this.markEdited(`${el.classList.contains("note-risk") ? "risks" : "measures"}[${el.dataset.id}]`);
      el.remove();
      this.changed();
    });
    return b;
  }

  acp(doc) {
    const acp = doc.acp || {};
    return this.section("acp", this.l("acp"),
      ...ACP_TEXTS.map((k) => this.field(`f-acp-${k}`, this.l(`acp.${k}`), this.textarea(`f-acp-${k}`, acp[k]))),
      this.field("f-acp-talk", this.l("acp.talk_again_on"), h("input", { id: "f-acp-talk", type: "date", value: acp.talk_again_on || "" })));
  }

  readingsSection() {
    const body = h("tbody");
    const draw = () => {
      body.replaceChildren(...this.readings.map((r) => {
        const remove = h("button", { type: "button", class: "note-remove", text: this.s("remove") });
        remove.addEventListener("click", () => {
          this.markEdited(`readings[${r.id}]`);
          this.readings = this.readings.filter((x) => x.id !== r.id);
          draw(); this.changed();
        });
        const value = r.diastolic ? `${r.value}/${r.diastolic}` : r.value;
        return h("tr", { "data-id": r.id }, h("td", { text: this.readingName(r) }), h("td", { text: `${value} ${this.units[r.unit] || r.unit}` }),
          h("td", { text: new Date(r.taken_at).toLocaleString() }), h("td", { text: r.taken_by }), h("td", {}, remove));
      }));
    };
    draw();
    const kind = h("select", { id: "f-reading-kind" }, ...this.kinds.map((k) => h("option", { value: k.kind, text: k.label })));
    const value = h("input", { id: "f-reading-value", type: "text", inputmode: "decimal", maxlength: 12 });
    const dia = h("input", { id: "f-reading-dia", type: "text", inputmode: "decimal", maxlength: 12 });
    const add = h("button", { type: "button", text: this.s("add_reading") });
    add.addEventListener("click", () => {
      const v = value.value.trim().replace(",", ".");
      if (!/^-?\d+(\.\d+)?$/.test(v)) { value.focus(); return; }
      const bp = Boolean(this.kind(kind.value)?.paired);
      const d = dia.value.trim().replace(",", ".");
      if (bp && !/^\d+(\.\d+)?$/.test(d)) { dia.focus(); return; }
      const readingId = newId();
      this.markEdited(`readings[${readingId}]`);
      this.readings.push({ id: readingId, kind: kind.value, name: "", value: v, diastolic: bp ? d : null,
        unit: this.kind(kind.value).ucum, taken_at: new Date().toISOString().replace(/\.\d+Z$/, "Z"), taken_by: this.root.dataset.me || "" });
      value.value = ""; dia.value = "";
      draw(); this.changed();
    });
    return this.section("readings", this.l("readings"),
      h("table", { class: "note-readings" }, h("thead", {}, h("tr", {}, ...["", this.s("value"), this.s("taken_at"), this.l("reading.taken_by"), ""].map((t) => h("th", { scope: "col", text: t })))), body),
      h("div", { class: "note-reading-add" }, this.field("f-reading-kind", this.s("measurement"), kind),
        this.field("f-reading-value", this.s("value"), value), this.field("f-reading-dia", this.s("diastolic"), dia), add));
  }

  professions(doc) {
    const texts = [...(doc.profession_texts || [])];
    const mine = this.note.profession;
    if (mine && !texts.some((t) => t.profession === mine)) texts.push({ profession: mine, text: "" });
    return this.section("profession_texts", this.l("profession_texts"),
      ...texts.map((t) => this.field(`f-prof-${t.profession}`, this.l(`profession.${t.profession}`) || t.profession,
        this.textarea(`f-prof-${t.profession}`, t.text, { rows: 4, "data-profession": t.profession }))));
  }

  signing() {
    const n = this.note;
    const box = h("section", { class: "note-section note-signing", "aria-labelledby": "h-signing" },
      h("h2", { id: "h-signing", text: n.signature ? this.l("signature") : this.l("unsigned") }));
    const message = h("p", { class: "note-message", role: "alert" });
    if (n.signature) {
      box.append(h("p", { text: `${this.s("signed_by")} ${n.signature.signer.name}, ${new Date(n.signature.signed_at).toLocaleString()} (${this.s("version")} ${n.signature.version})` }));
      if (n.amendments.length) {
        box.append(h("h3", { text: this.l("amendments") }), h("ol", { class: "note-amendments" },
          ...n.amendments.map((a) => h("li", {}, h("p", { text: `${this.l("amendment")} ${a.number} · ${a.author.name} · ${new Date(a.signed_at).toLocaleString()} · ${this.s("amend_part")}: ${a.part}` }), h("p", { class: "note-amendment-text", text: a.text })))));
      }
      if (this.may("amend")) box.append(this.draftAmendments(), this.amendForm(message));
      if (this.may("share")) {
        const share = h("button", { type: "button", text: n.shared ? this.s("unshare") : this.s("share") });
        share.addEventListener("click", () => this.post("/share", { shared: !n.shared }).catch((e) => { this.say(e.message); }));
        box.append(h("p", { text: n.shared ? this.s("shared") : "" }), share);
      }
    } else if (this.may("sign")) {
      const sign = h("button", { type: "button", class: "primary", id: "note-sign", text: this.s("sign") });
      sign.addEventListener("click", async () => {
        if (!window.confirm(this.signQuestion())) return;
        message.textContent = "";
        const blockers = this.root.querySelector(".note-blockers");
        if (blockers) blockers.replaceChildren();
        try {
          await this.flush();
          await this.checkLatest();
          if (await this.signNow()) localStorage.removeItem(this.storageKey);
        } catch (e) { this.say(e.message); }
      });
      box.append(h("p", { class: "note-missing" }), sign, h("div", { class: "note-blockers", role: "alert", tabindex: "-1" }));
    }
    box.append(message);
    return box;
  }

  amendForm(message) {
    const parts = [["note", this.s("whole_note")], ...["what_matters", "assessment", "risks", "measures", "acp", "readings", "profession_texts"].map((k) => [k, this.l(k)]),
      ...[...partsOf(this.note.content).keys()].filter((k) => k.includes("[")).map((k) => [k, this.partTitle(k)])];
    const select = h("select", { id: "f-amend-part" }, ...parts.map(([v, t]) => h("option", { value: v, text: t })));
    const text = this.textarea("f-amend-text", "", { rows: 3 });
    const button = h("button", { type: "button", id: "note-amend", text: this.s("amend") });
    button.addEventListener("click", () => this.post("/amendments", { part: select.value, text: text.value })
      .catch((e) => { this.say(e.message); }));
    return h("div", { class: "note-amend" }, this.field("f-amend-part", this.s("amend_part"), select),
      this.field("f-amend-text", this.s("amend_text"), text), button);
  }

  /** A part key (``risks[<id>]``, ``assessment.physical``…) in the reader's words. */
  partTitle(key) {
    const section = key.split("[")[0];
    const id = key.includes("[") ? key.slice(section.length + 1, -1) : "";
    const value = partsOf(this.note.content).get(key) || partsOf(this.collect()).get(key);
    if (section === "profession_text") return `${this.l("profession_texts")}: ${this.l(`profession.${id}`)}`;
    if (section === "risks") return `${this.l("risks")}: ${value ? value.unwanted_event : ""}`;
    if (section === "measures") return `${this.l("measures")}: ${value ? value.what : ""}`;
    if (section === "readings") return `${this.l("readings")}: ${value ? this.readingName(value) : ""}`;
    return this.l(key);
  }

  renderConflicts() {
    if (!this.conflictsEl) return;
    this.conflictsEl.replaceChildren();
    if (!this.conflicts.length) return;
    const box = h("div", { class: "note-conflict", role: "alert" }, h("h2", { text: this.s("conflict_title") }), h("p", { text: this.s("conflict_help") }));
    for (const c of this.conflicts) {
      const theirs = h("button", { type: "button", text: this.s("keep_theirs") });
      const mine = h("button", { type: "button", text: this.s("keep_mine") });
      theirs.addEventListener("click", () => this.resolve(c, false));
      mine.addEventListener("click", () => this.resolve(c, true));
      box.append(h("div", { class: "note-conflict-part", "data-part": c.part },
        h("h3", { text: this.partTitle(c.part) }),
        h("div", { class: "note-conflict-texts" },
          h("div", {}, h("h4", { text: this.s("theirs") }), h("pre", { class: "theirs", text: c.theirs_text })),
          h("div", {}, h("h4", { text: this.s("mine") }), h("pre", { class: "mine", text: c.mine_text }))),
        h("div", { class: "button-row" }, theirs, mine)));
    }
    this.conflictsEl.append(box);
  }

  resolve(conflict, keepMine) {
    this.conflicts = this.conflicts.filter((c) => c !== conflict);
    if (keepMine) this.markEdited(conflict.part);
    const doc = keepMine ? setPart(this.collect(), conflict.part, conflict.mine) : this.collect();
    this.render(doc);
    this.keep(this.collect());
    this.setStatus("unsaved");
    this.saveSoon(0);
  }

  // ---------------------------------------------------------------------------------- reading the form

  collect() {
    const v = (id) => { const el = this.root.querySelector(`#${id}`); return el ? el.value : ""; };
    const doc = docFromParts(new Map());
    const own = v("f-wm-own"), goals = lines(v("f-wm-goals"));
    if (own.trim() || goals.length) doc.what_matters = { own_words: own, goals };
    for (const [kind, names] of Object.entries(TEXT_KINDS)) {
      const part = Object.fromEntries(names.map((n) => [n, v(`f-${kind}-${n}`)]));
      if (names.some((n) => part[n].trim())) doc.assessment[kind] = part;
    }
    const level = v("f-cognitive-level") || "unknown", comment = v("f-cognitive-comment");
    if (level !== "unknown" || comment.trim()) doc.assessment.cognitive = { level, comment };
    this.drafts = { risks: [], measures: [] };
    for (const box of this.root.querySelectorAll(".note-risk")) {
      const id = slug(box.dataset.id);
      const r = { id: box.dataset.id, unwanted_event: v(`f-risk-${id}-event`).trim() };
      for (const k of RISK_LISTS) r[k] = lines(v(`f-risk-${id}-${k}`));
      // A row with anything typed in it goes to the server (which keeps it as a draft while the event is
      // missing); only a row still blank stays on this screen.
      (r.unwanted_event || RISK_LISTS.some((k) => r[k].length) ? doc.risks : this.drafts.risks).push(r);
    }
    for (const row of this.root.querySelectorAll(".note-measures tbody tr")) {
      const id = slug(row.dataset.id);
      const m = { id: row.dataset.id, what: v(`f-m-${id}-what`).trim(), responsible: { kind: v(`f-m-${id}-kind`), name: v(`f-m-${id}-name`) },
        start_date: v(`f-m-${id}-start`) || null, evaluation_date: v(`f-m-${id}-eval`) || null, status: v(`f-m-${id}-status`) };
      (m.what || m.responsible.name.trim() || m.start_date || m.evaluation_date ? doc.measures : this.drafts.measures).push(m);
    }
    const acp = Object.fromEntries(ACP_TEXTS.map((k) => [k, v(`f-acp-${k}`)]));
    acp.talk_again_on = v("f-acp-talk") || null;
    if (ACP_TEXTS.some((k) => acp[k].trim()) || acp.talk_again_on) doc.acp = acp;
    doc.readings = [...(this.readings || [])];
    for (const el of this.root.querySelectorAll("textarea[data-profession]")) {
      if (el.value.trim()) doc.profession_texts.push({ profession: el.dataset.profession, text: el.value });
    }
    return doc;
  }
}

/** Mount the editor of the note at ``noteUrl`` (``/api/notes/<id>``) into ``element``; returns the editor. */
export function mountNoteEditor(element, noteUrl, options = {}) {
  const editor = new NoteEditor(element, noteUrl, options);
  editor.ready = editor.start();
  return editor;
}
