// The call page: pre-call check, then the consultation (tiles, controls, roster, waiting room, chat,
// readings). Every rule lives on the server; this only shows what the server says and sends requests.
import { Signal } from './signal.js';
import { Peer } from './peer.js';
import './send_code.js';

const config = JSON.parse(document.getElementById('call-config').textContent);
const T = JSON.parse(document.getElementById('call-strings').textContent);
const $ = (id) => document.getElementById(id);
const MEDIA_RESTORE_MS = 30000;
// A peer connection "disconnected" this long is replaced (aiortc cannot restart ICE on the old one).
const PEER_RESET_MS = 5000;
// Chromium calls a connection "disconnected" only some 5–7 s after its packets stopped (measured with
// the network-drop test): nothing received this long is shown as reconnecting at once. The peer is not
// replaced for it; a short blip recovers by itself.
const MEDIA_STALL_MS = 2000;
const STALL_POLL_MS = 500;

const state = {
  me: null, admitted: false, roster: [], stream: null, exam: null, screen: null,
  audioCtx: null, meterRaf: 0, lostSince: 0, fallbackTimer: 0, peerResetTimer: 0, restartOnResume: false,
  ended: false, phase: 'before', refs: 0, sentReading: null,
};
window.samkonsult = state; // for the browser tests and the curious

function show(id, visible) { $(id).hidden = !visible; }
function status(text) { $('call-status').textContent = text; }
function roleName(role) { return T[role] || role; }

// --- the page's states ---------------------------------------------------------------------------
// One state at a time, each with its own panel and only the actions that make sense in it. Everything
// that changes what the page shows goes through setPhase, so two states can never show at once.
const PHASES = {
  before: { panel: 'precall', status: '' },
  connecting: { panel: 'precall', status: () => T.connecting },
  waiting: { panel: 'waiting-room', status: '' },
  incall: { panel: 'incall', status: () => T.in_call },
  // The ways it ends: the text says why; "join again" only where joining again can work.
  left: { panel: 'after', text: () => T.left, action: () => T.join_again },
  replaced: { panel: 'after', text: () => T.replaced, action: () => T.use_here },
  not_open: { panel: 'after', text: () => T.not_open, action: () => T.retry },
  denied: { panel: 'after', text: () => T.denied },
  removed: { panel: 'after', text: () => T.removed },
  ended: { panel: 'after', text: () => T.ended },
  closed: { panel: 'after', text: () => T.closed },
};
const PANELS = ['precall', 'waiting-room', 'incall', 'after'];
const ENDINGS = new Set(['left', 'replaced', 'not_open', 'denied', 'removed', 'ended', 'closed']);

function setPhase(phase) {
  const spec = PHASES[phase];
  state.phase = phase;
  $('call').dataset.state = phase;
  for (const panel of PANELS) show(panel, panel === spec.panel);
  status(typeof spec.status === 'function' ? spec.status() : spec.status);
  $('call-error').textContent = '';
  if (spec.panel === 'after') {
    $('after-text').textContent = spec.text();
    const rejoin = $('rejoin-button');
    rejoin.hidden = !spec.action;
    if (spec.action) rejoin.textContent = spec.action();
  }
  if (phase !== 'incall') { show('reconnecting', false); show('fallback', false); }
  if (phase === 'before') $('join-button').disabled = false;
}

// A refusal shown to a person: the words for its code in their language, never the server's text.
function errorText(code) { return T[`error_${code}`] || T.error_error; }

// Sends a user's request; false when the socket is not open (the caller keeps what was typed).
function request(message, refPrefix) {
  state.refs += 1;
  return signal.send({ ...message, ref: `${refPrefix}-${state.refs}` });
}

function el(tag, attrs = {}, text = '') {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// --- pre-call check --------------------------------------------------------------------------------

async function acquire() {
  const cam = $('camera-select').value;
  const mic = $('mic-select').value;
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      video: cam ? { deviceId: { exact: cam } } : true,
      audio: mic ? { deviceId: { exact: mic } } : true,
    });
  } catch (e) {
    state.stream = null;
    status(T.no_devices);
    return;
  }
  $('preview').srcObject = state.stream;
  meter(state.stream);
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [select, kind] of [['camera-select', 'videoinput'], ['mic-select', 'audioinput']]) {
    const node = $(select);
    const current = node.value;
    node.replaceChildren();
    devices.filter((d) => d.kind === kind).forEach((d, i) => {
      node.append(el('option', { value: d.deviceId }, d.label || `${kind} ${i + 1}`));
    });
    if (current) node.value = current;
  }
}

function meter(stream) {
  cancelAnimationFrame(state.meterRaf);
  if (!stream.getAudioTracks().length) return;
  state.audioCtx = state.audioCtx || new AudioContext();
  const source = state.audioCtx.createMediaStreamSource(stream);
  const analyser = state.audioCtx.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  const tick = () => {
    analyser.getByteTimeDomainData(data);
    let peak = 0;
    for (const v of data) peak = Math.max(peak, Math.abs(v - 128) / 128);
    $('level').value = peak;
    state.meterRaf = requestAnimationFrame(tick);
  };
  tick();
}

// --- tiles ---------------------------------------------------------------------------------------

const remote = new Map(); // mid -> {tile|audio, info}

function nameOf(participantId) {
  const entry = state.roster.find((p) => p.participant_id === participantId);
  return entry ? `${entry.display_name} (${roleName(entry.role)})` : '';
}

function addTile(key, stream, caption, { muted = false, local = false } = {}) {
  const figure = el('figure', { class: 'tile', 'data-key': key });
  const video = el('video', { autoplay: '', playsinline: '' });
  video.muted = muted;
  video.srcObject = stream;
  const cap = el('figcaption', {}, caption);
  figure.append(video, cap);
  if (local) figure.classList.add('local');
  $('tiles').append(figure);
  return figure;
}

function onRemoteTrack(mid, info, track) {
  removeRemote(mid);
  const stream = new MediaStream([track]);
  if (track.kind === 'audio') {
    const audio = el('audio', { autoplay: '' });
    audio.srcObject = stream;
    document.body.append(audio);
    remote.set(mid, { node: audio, info });
    speakers.watch(mid, info.participant_id, stream);
  } else {
    const tile = addTile(`r-${mid}`, stream, `${nameOf(info.participant_id)} · ${T[info.label] || info.label}`, { muted: true });
    tile.dataset.participant = info.participant_id;
    tile.dataset.label = info.label;
    remote.set(mid, { node: tile, info });
    speakers.choose();
  }
}

function removeRemote(mid) {
  const entry = remote.get(mid);
  if (entry) { entry.node.remove(); remote.delete(mid); }
  speakers.unwatch(mid);
  speakers.choose();
}

// --- who is shown large ----------------------------------------------------------------------------
// The person talking gets the big tile (on a phone the only big one): each remote audio track's level
// is measured, and the loudest voice above a floor for a moment becomes the speaker. A shared screen
// outranks any voice; before anyone has spoken, the first remote camera is shown large.
const SPEECH_FLOOR = 0.02; // RMS of a voice, well above the hiss of an open microphone
const SPEAKER_POLL_MS = 250;

const speakers = {
  meters: new Map(), // mid -> {participant, analyser, data}
  current: null,
  timer: 0,
  watch(mid, participant, stream) {
    if (!state.audioCtx) return;
    const analyser = state.audioCtx.createAnalyser();
    analyser.fftSize = 512;
    state.audioCtx.createMediaStreamSource(stream).connect(analyser);
    this.meters.set(mid, { participant, analyser, data: new Float32Array(analyser.fftSize) });
  },
  unwatch(mid) { this.meters.delete(mid); },
  start() { if (!this.timer) this.timer = setInterval(() => this.poll(), SPEAKER_POLL_MS); this.choose(); },
  stop() { clearInterval(this.timer); this.timer = 0; this.meters.clear(); this.current = null; },
  poll() {
    let loudest = null;
    let best = SPEECH_FLOOR;
    for (const { participant, analyser, data } of this.meters.values()) {
      analyser.getFloatTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += v * v;
      const rms = Math.sqrt(sum / data.length);
      if (rms > best) { best = rms; loudest = participant; }
    }
    if (loudest && loudest !== this.current) { this.current = loudest; this.choose(); }
    else if (!document.querySelector('#tiles .tile.speaker')) this.choose();
  },
  choose() {
    const tiles = [...document.querySelectorAll('#tiles .tile:not(.local)')];
    const pick = tiles.find((t) => t.dataset.label === 'screen')
      || tiles.find((t) => t.dataset.participant === this.current && t.dataset.label === 'room_camera')
      || tiles.find((t) => t.dataset.participant === this.current)
      || tiles[0];
    for (const tile of document.querySelectorAll('#tiles .tile')) tile.classList.toggle('speaker', tile === pick);
    for (const li of document.querySelectorAll('#roster li')) li.classList.toggle('speaking', li.dataset.participant === this.current);
    $('tiles').dataset.remote = String(tiles.length);
  },
};

function relabelTiles() {
  const present = new Set(state.roster.map((p) => p.participant_id));
  for (const [mid, { node, info }] of remote) {
    if (!present.has(info.participant_id)) { removeRemote(mid); continue; }
    const cap = node.querySelector && node.querySelector('figcaption');
    if (cap) cap.textContent = `${nameOf(info.participant_id)} · ${T[info.label] || info.label}`;
  }
}

// --- signaling -----------------------------------------------------------------------------------

const signal = new Signal(config.ws, onMessage, onSocket);
const peer = new Peer(signal, {
  onRemoteTrack,
  onRemoteGone: removeRemote,
  onConnection: (s) => {
    clearTimeout(state.peerResetTimer);
    if (s === 'connected') mediaRestored();
    else if (s === 'failed') { mediaLost(); restartPeer(); }
    else if (s === 'disconnected') { mediaLost(); state.peerResetTimer = setTimeout(restartPeer, PEER_RESET_MS); }
  },
});

// For the browser tests: kill the socket (samkonsultSignal.drop()) and look at the peer connection.
window.samkonsultSignal = signal;
window.samkonsultPeer = peer;

function onSocket(s) {
  if (s === 'closed') { mediaLost(); leaveDeadNode(); }
  if (s === 'failed') showFallback();
  if (s === 'replaced') finish('replaced');
}

// A new peer connection needs the socket for its offer: without one, it is made when the socket resumes.
function restartPeer() {
  if (state.ended) return;
  if (signal.ws && signal.ws.readyState === WebSocket.OPEN) peer.start();
  else state.restartOnResume = true;
}

function peerUsable() {
  // A dropped socket leaves media flowing; only a missing, failed or closed connection needs a new one
  // (a "disconnected" one recovers by itself, or is replaced after PEER_RESET_MS or by media_restart).
  return Boolean(peer.pc) && !state.restartOnResume && !['failed', 'closed'].includes(peer.pc.connectionState);
}

function mediaLost() {
  if (state.ended || state.phase !== 'incall') return;
  show('reconnecting', true);
  if (!state.lostSince) {
    state.lostSince = Date.now();
    state.fallbackTimer = setTimeout(showFallback, MEDIA_RESTORE_MS);
  }
}

function mediaRestored() {
  show('reconnecting', false);
  state.lostSince = 0;
  clearTimeout(state.fallbackTimer);
}

// --- media that stop arriving ----------------------------------------------------------------------
const stall = { timer: 0, bytes: -1, since: 0, flagged: false };

function watchStalls() {
  if (!stall.timer) stall.timer = setInterval(checkStall, STALL_POLL_MS);
}

function stopWatchingStalls() {
  clearInterval(stall.timer);
  stall.timer = 0;
  stall.bytes = -1;
  stall.flagged = false;
}

async function checkStall() {
  const pc = peer.pc;
  // Only a connected peer that should be receiving (someone else's media is live) can stall; anything
  // else is the connection's own state to report (onConnection).
  if (!pc || state.phase !== 'incall' || pc.connectionState !== 'connected'
      || ![...peer.mediaMap.values()].some((t) => t.live)) {
    stall.bytes = -1;
    stall.flagged = false;
    return;
  }
  let bytes = 0;
  (await pc.getStats()).forEach((s) => { if (s.type === 'transport') bytes += s.bytesReceived || 0; });
  if (pc !== peer.pc) return;
  const now = Date.now();
  if (bytes !== stall.bytes) {
    stall.bytes = bytes;
    stall.since = now;
    // Packets again on the same connection: back, unless the socket is what is still missing.
    if (stall.flagged && signal.ws && signal.ws.readyState === WebSocket.OPEN) mediaRestored();
    stall.flagged = false;
  } else if (!stall.flagged && now - stall.since >= MEDIA_STALL_MS) {
    stall.flagged = true;
    mediaLost();
  }
}

function showFallback() {
  if (state.phase !== 'incall') return;
  show('fallback', true);
  status(T.media_failed);
}

async function onMessage(msg) {
  switch (msg.type) {
    case 'waiting':
      state.me = msg.participant_id;
      setPhase('waiting');
      break;
    case 'waiting_status': showStaffAware(msg.staff_roles); break;
    case 'waiting_message': addWaitingNote(msg); break;
    case 'admitted': {
      // A seat of another id is a new one (the old one was given up, or its node stopped): the server has
      // no peer connection for it, however healthy this page's old one still looks.
      const newSeat = msg.participant_id !== state.me;
      state.me = msg.participant_id;
      peer.iceServers = (msg.ice_servers || []).map((s) => ({ urls: s.urls, username: s.username || undefined, credential: s.credential || undefined }));
      enterCall();
      // After a resumed socket the server's peer connection is still ours: keep a healthy one.
      if (newSeat || !peerUsable()) { state.restartOnResume = false; await peer.start(); }
      if (newSeat && state.lostSince) mediaRestored();
      break;
    }
    case 'resumed':
      state.me = msg.participant_id;
      if (msg.status === 'waiting' && state.phase !== 'waiting') setPhase('waiting');
      if (signal.ws) show('reconnecting', false);
      if (msg.status === 'admitted' && !peerUsable()) { state.restartOnResume = false; await peer.start(); }
      else if (msg.status === 'admitted') peer.resendOffer();
      if (msg.status === 'admitted') mediaRestored();
      break;
    case 'denied': finish('denied'); break;
    case 'ended': finish(msg.reason === 'removed' ? 'removed' : (msg.reason === 'left' ? 'left' : 'ended')); break;
    case 'roster': renderRoster(msg.participants, msg.recorder); break;
    case 'recording_status': renderRecording(msg); break;
    case 'waiting_list': renderWaiting(msg.participants); break;
    case 'media_map': peer.onMediaMap(msg.tracks); break;
    case 'offer': await peer.onOffer(msg.sdp); break;
    case 'answer': await peer.onAnswer(msg.sdp); break;
    case 'media_restart':
      // The server lost this page's media (a dead peer, or the media worker holding the room): shown as
      // reconnecting until the new peer connection is up.
      clearTimeout(state.peerResetTimer);
      state.restartOnResume = false;
      mediaLost();
      await peer.start();
      break;
    case 'bitrate': await peer.setBitrate(msg.max_video_kbps); break;
    case 'chat': addChat(msg); break;
    case 'reading': addReading(msg); break;
    case 'invited': showInvite(msg); break;
    case 'error': onError(msg); break;
    case 'room_elsewhere': goToRoomNode(msg.url); break;
    default: break;
  }
}

// The consultation is held on another node of the service: open this same page there and join at once
// (the person already asked to join here). "#join" tells that page so; it is removed on arrival.
function goToRoomNode(url) {
  let target;
  try { target = new URL(location.pathname + location.search + '#join', url); } catch { return; }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return;
  signal.close();
  location.replace(target.href);
}

// This page was sent to the node holding the consultation, and that node no longer answers: after a few
// tries, go back to the service's own address, whose nodes take the consultation over.
const DEAD_NODE_ATTEMPTS = 4;
function leaveDeadNode() {
  if (state.ended || signal.attempts < DEAD_NODE_ATTEMPTS || !config.home) return;
  let home;
  try { home = new URL(config.home); } catch { return; }
  if (home.origin === location.origin) return;
  goToRoomNode(home.href);
}

// The node holding the consultation has stopped and another is taking it over: ask again in a moment.
const ROOM_MOVING_RETRY_MS = 2000;
function roomMoving() {
  status(errorText('room_moving'));
  if (state.phase === 'incall') mediaLost();
  setTimeout(() => { if (!state.ended) signal.rejoin(); }, ROOM_MOVING_RETRY_MS);
}

// Where a refusal belongs: next to the form that sent the request (by the ref it carries), else on top.
const ERROR_PLACES = {
  invite: 'invite-result', reading: 'reading-result', chat: 'chat-result', wait: 'waiting-message-result',
  recording: 'recording-result',
};

function onError(msg) {
  if (msg.code === 'room_not_open') { finish('not_open'); return; }
  // Refused at the door: the room is over. Refused inside (a media message that crossed the end): the
  // consultation ended under us, and the "ended" frame may still be on its way.
  if (msg.code === 'room_closed') { finish(state.phase === 'connecting' ? 'closed' : 'ended'); return; }
  if (msg.code === 'join_refused') { finish('denied'); return; }
  if (msg.code === 'negotiation_collision') return; // offers crossed: peer.js rolls back and offers again
  if (msg.code === 'room_moving') { roomMoving(); return; }
  const place = ERROR_PLACES[(msg.ref || '').split('-')[0]];
  const text = place === 'reading-result' && ['bad_field', 'invalid_reading'].includes(msg.code)
    ? T.reading_invalid : errorText(msg.code);
  if (place && $(place)) $(place).textContent = text;
  else $('call-error').textContent = text;
}

function enterCall() {
  state.admitted = true;
  if (state.phase !== 'incall') setPhase('incall');
  cancelAnimationFrame(state.meterRaf);
  if (state.stream && !document.querySelector('[data-key="local"]')) {
    addTile('local', state.stream, `${config.name} (${T.you})`, { muted: true, local: true });
  }
  speakers.start();
  watchStalls();
}

// The call is over for this page, for the reason `phase` names; media and socket go with it.
function finish(phase) {
  if (ENDINGS.has(state.phase) && state.phase !== 'left') return; // the first reason stands
  state.ended = true;
  state.admitted = false;
  signal.close();
  peer.close();
  speakers.stop();
  stopWatchingStalls();
  clearTimeout(state.fallbackTimer);
  clearTimeout(state.peerResetTimer);
  state.lostSince = 0;
  document.querySelector('[data-key="local"]')?.remove();
  setPhase(phase);
}

const STAFF_AWARE = { specialist: 'staff_aware_specialist', nurse: 'staff_aware_nurse' };

function showStaffAware(roles) {
  let key = 'staff_not_yet';
  if (roles.includes('specialist') && roles.includes('nurse')) key = 'staff_aware_both';
  else if (roles.length === 1 && STAFF_AWARE[roles[0]]) key = STAFF_AWARE[roles[0]];
  else if (roles.length) key = 'staff_aware_other';
  $('waiting-staff').textContent = T[key];
  $('waiting-staff').dataset.aware = String(roles.length > 0);
}

// A time as people write it: "11.30" in Norwegian (as in "kl. 11.30"), "11:30" in English.
function clock(iso) {
  const lang = document.documentElement.lang || 'nb';
  const parts = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso));
  const part = (type) => (parts.find((p) => p.type === type) || {}).value;
  return `${part('hour')}${lang.startsWith('en') ? ':' : '.'}${part('minute')}`;
}

function addWaitingNote(msg) {
  if (state.phase === 'waiting') {
    show('waiting-notes-box', true);
    $('waiting-notes').append(el('li', {}, `${clock(msg.sent_at)} ${msg.display_name}: ${msg.text}`));
  } else if (msg.participant_id === state.me) {
    // The sender's receipt: the note went out; the field is emptied only now, so nothing is lost.
    $('waiting-message-result').textContent = T.waiting_message_sent.replace('{time}', clock(msg.sent_at)).replace('{text}', msg.text);
    $('waiting-message-text').value = '';
    countWaitingMessage();
  }
}

function renderRoster(participants, recorder) {
  state.roster = participants;
  const list = $('roster');
  list.replaceChildren();
  // The recorder is listed like a participant while it records: never a hidden one.
  if (recorder) {
    const purpose = T[`purpose_${recorder.purpose}`] || recorder.purpose;
    list.append(el('li', { class: 'recorder', 'data-recorder': 'true' },
      fill(T.recording_roster, { name: recorder.display_name, purpose })));
  }
  for (const p of participants) {
    let text = `${p.display_name} (${roleName(p.role)})`;
    if (p.presence) text += ` – ${T.in_health_room} ${p.presence.health_room}`;
    if (p.participant_id === state.me) text += ` – ${T.you}`;
    if (!p.connected) text += ` – ${T.reconnecting}`;
    const li = el('li', { 'data-participant': p.participant_id }, text);
    if (config.is_staff && p.participant_id !== state.me) {
      const remove = el('button', { type: 'button', class: 'small' }, T.remove);
      remove.setAttribute('aria-label', `${T.remove} ${p.display_name}`);
      remove.addEventListener('click', () => signal.send({ type: 'remove', target: p.participant_id }));
      li.append(' ', remove);
    }
    list.append(li);
  }
  relabelTiles();
}

// --- recording, only with everyone's consent: the server decides, the page asks and shows ---------
function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

function renderRecording(msg) {
  const me = state.me;
  const purpose = T[`purpose_${msg.purpose}`] || msg.purpose || '';
  const who = msg.proposed_by_name || nameOf(msg.proposed_by);
  const days = msg.retention_days;
  const banner = $('recording-banner');
  banner.hidden = msg.state === 'none';
  banner.classList.toggle('live', msg.state === 'recording');
  if (msg.state === 'recording') banner.textContent = fill(T.recording_on, { name: who, purpose, days });
  else if (msg.state === 'proposed') {
    const names = msg.waiting_for.map((pid) => nameOf(pid) || pid).join(', ');
    banner.textContent = fill(T.recording_waiting, { name: who, purpose, names });
  }
  // Asked on this page: when a proposal waits for me, or I joined while it records.
  const asked = msg.state !== 'none' && msg.waiting_for.includes(me);
  $('recording-ask').hidden = !asked;
  if (asked) $('recording-ask-text').textContent = fill(T.recording_ask, { name: who, purpose, days });
  // Anyone may stop a recording; a proposal can be withdrawn by whoever agreed to it.
  const withdraw = $('recording-withdraw');
  withdraw.hidden = !(msg.state === 'recording' || (msg.state === 'proposed' && msg.agreed.includes(me)));
  withdraw.textContent = msg.state === 'recording' ? T.recording_stop : T.recording_withdraw_agreement;
  const propose = $('recording-form');
  if (propose) propose.querySelector('button[type=submit]').disabled = msg.state !== 'none';
  if (msg.ended_reason) {
    let text = T[`recording_ended_${msg.ended_reason}`] || '';
    if (msg.kept_days) text += ` ${fill(T.recording_kept, { days: msg.kept_days })}`;
    $('recording-result').textContent = text;
  } else if (msg.state !== 'none') {
    $('recording-result').textContent = '';
  }
}

function answerRecording(agree) {
  if (!request({ type: 'recording_answer', agree }, 'recording')) $('recording-result').textContent = T.not_connected;
}

function renderWaiting(participants) {
  const list = $('waiting-list');
  if (!list) return;
  list.replaceChildren();
  if (!participants.length) { list.append(el('li', {}, T.nobody_waiting)); return; }
  for (const p of participants) {
    const li = el('li', {}, `${p.display_name} (${roleName(p.role)}) `);
    for (const [action, label] of [['admit', T.admit], ['deny', T.deny]]) {
      const button = el('button', { type: 'button', class: action === 'admit' ? 'primary small' : 'small' }, label);
      button.setAttribute('aria-label', `${label} ${p.display_name}`);
      button.addEventListener('click', () => signal.send({ type: action, target: p.participant_id }));
      li.append(button, ' ');
    }
    list.append(li);
  }
}

function addChat(msg) {
  $('chat-log').append(el('li', {}, `${clock(msg.sent_at)} ${msg.display_name}: ${msg.text}`));
  if (msg.participant_id === state.me && $('chat-text').value === msg.text) {
    $('chat-text').value = '';
    $('chat-result').textContent = '';
  }
}

// Everyone sees a reading in words: the name and unit from the page's strings, decimals as people write
// them ("37,5" in Norwegian), never the protocol's ids. An unknown name is not shown raw either.
function readingValue(value) {
  return typeof value === 'number' ? value.toLocaleString(document.documentElement.lang) : String(value);
}

function addReading(msg) {
  const name = T[`reading_${msg.name}`];
  if (!name) return;
  const text = T.reading_line.replace('{time}', clock(msg.taken_at)).replace('{name}', name)
    .replace('{value}', readingValue(msg.value)).replace('{unit}', T[`unit_${msg.name}`])
    .replace('{who}', msg.display_name);
  $('readings').append(el('li', { 'data-reading': msg.name }, text));
  // Shared: only now is the typed value done with (unless the field already holds the next one).
  if (msg.participant_id === state.me && $('reading-value') && $('reading-value').value === state.sentReading) {
    $('reading-value').value = '';
    $('reading-result').textContent = '';
  }
}

function showInvite(msg) {
  const link = config.join_url;
  $('invite-result').textContent = T.invited.replace('{name}', msg.name).replace('{code}', msg.code || '').replace('{link}', link);
  // The "send the code" panel (send_code.js) offers SMS, e-mail and copy for exactly this code.
  if (msg.code) document.dispatchEvent(new CustomEvent('samkonsult:invited', { detail: { name: msg.name, code: msg.code } }));
}

// --- controls ------------------------------------------------------------------------------------

function toggle(button, pressed, textOn, textOff) {
  button.setAttribute('aria-pressed', String(pressed));
  button.textContent = pressed ? textOn : textOff;
}

function wireControls() {
  $('mute-button').addEventListener('click', (e) => {
    const track = state.stream && state.stream.getAudioTracks()[0];
    if (!track) return;
    track.enabled = !track.enabled;
    toggle(e.target, !track.enabled, T.unmute, T.mute);
    signal.send({ type: 'mute', kind: 'audio', muted: !track.enabled });
  });
  $('camera-button').addEventListener('click', (e) => {
    const track = state.stream && state.stream.getVideoTracks()[0];
    if (!track) return;
    track.enabled = !track.enabled;
    toggle(e.target, !track.enabled, T.camera_on, T.camera_off);
    signal.send({ type: 'mute', kind: 'room_camera', muted: !track.enabled });
  });
  $('exam-button')?.addEventListener('click', async (e) => {
    if (state.exam) {
      peer.removeLocal('exam_camera');
      state.exam.getTracks().forEach((t) => t.stop());
      state.exam = null;
      document.querySelector('[data-key="exam"]')?.remove();
      toggle(e.target, false, T.remove_exam, T.add_exam);
      return;
    }
    const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
    const other = cameras.find((d) => d.deviceId !== $('camera-select').value);
    state.exam = await navigator.mediaDevices.getUserMedia({ video: other ? { deviceId: { exact: other.deviceId } } : true });
    addTile('exam', state.exam, `${config.name} · ${T.exam_camera}`, { muted: true, local: true });
    await peer.addLocal('exam_camera', state.exam.getVideoTracks()[0], state.exam, T.exam_camera);
    toggle(e.target, true, T.remove_exam, T.add_exam);
  });
  // Phones and tablets cannot share their screen from a browser: no button that cannot work there.
  const touchOnly = window.matchMedia('(hover: none) and (pointer: coarse)').matches;
  if (!navigator.mediaDevices.getDisplayMedia || touchOnly) $('screen-button').remove();
  $('screen-button')?.addEventListener('click', async (e) => {
    if (state.screen) { stopShare(e.target); return; }
    try {
      state.screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
    } catch (err) { return; }
    const track = state.screen.getVideoTracks()[0];
    track.addEventListener('ended', () => stopShare(e.target));
    await peer.addLocal('screen', track, state.screen, T.screen);
    toggle(e.target, true, T.stop_share, T.share_screen);
  });
  $('leave-button').addEventListener('click', () => {
    signal.send({ type: 'leave' });
    finish('left');
  });
  $('leave-waiting-button').addEventListener('click', () => {
    signal.send({ type: 'leave' });
    finish('left');
  });
  const end = $('end-button');
  if (end) end.addEventListener('click', () => signal.send({ type: 'end' }));
  $('rejoin-button').addEventListener('click', () => {
    // Offered only after leaving, a replaced tab or too early a visit: the room may still take us.
    state.ended = false;
    signal.resumeToken = null;
    setPhase('connecting');
    signal.connect();
  });
  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('chat-text');
    if (!input.value.trim()) return;
    // The text stays in the field until the server's copy comes back (addChat): a refusal loses nothing.
    $('chat-result').textContent = request({ type: 'chat', text: input.value }, 'chat') ? '' : T.not_connected;
  });
  const recording = $('recording-form');
  if (recording) recording.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!request({ type: 'recording_propose', purpose: $('recording-purpose').value }, 'recording')) {
      $('recording-result').textContent = T.not_connected;
    }
  });
  $('recording-agree').addEventListener('click', () => answerRecording(true));
  $('recording-decline').addEventListener('click', () => answerRecording(false));
  $('recording-withdraw').addEventListener('click', () => {
    if (!request({ type: 'recording_withdraw' }, 'recording')) $('recording-result').textContent = T.not_connected;
  });
  const invite = $('invite-form');
  if (invite) invite.addEventListener('submit', (e) => {
    e.preventDefault();
    const sent = request({ type: 'invite', name: $('invite-name').value, role: $('invite-role').value }, 'invite');
    $('invite-result').textContent = sent ? T.making_code : T.not_connected;
  });
  const waitingForm = $('waiting-message-form');
  if (waitingForm) {
    $('waiting-message-text').addEventListener('input', countWaitingMessage);
    countWaitingMessage();
    waitingForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = $('waiting-message-text').value;
      const result = $('waiting-message-result');
      if (!text.trim()) { result.textContent = T.waiting_message_empty; return; }
      if ([...text].length > config.waiting_message_max) {
        result.textContent = T.waiting_message_too_long.replace('{count}', [...text].length).replace('{max}', config.waiting_message_max);
        return;
      }
      result.textContent = request({ type: 'waiting_message', text }, 'wait') ? '' : T.not_connected;
    });
  }
  const reading = $('reading-form');
  if (reading) {
    const unit = () => $('reading-name').selectedOptions[0].dataset.unit;
    $('reading-name').addEventListener('change', () => { $('reading-unit').textContent = T[`unit_${$('reading-name').value}`]; });
    reading.addEventListener('submit', (e) => {
      e.preventDefault();
      const name = $('reading-name').value;
      const raw = $('reading-value').value.trim().replace(',', '.');
      const value = name === 'blood_pressure' ? raw : Number(raw);
      if (name === 'blood_pressure' ? !/^\d{2,3}\/\d{2,3}$/.test(raw) : (raw === '' || !Number.isFinite(value))) {
        $('reading-result').textContent = T.reading_invalid;
        return;
      }
      const sent = request({ type: 'reading', name, value, unit: unit(), taken_at: new Date().toISOString() }, 'reading');
      if (sent) state.sentReading = $('reading-value').value;
      $('reading-result').textContent = sent ? '' : T.not_connected;
    });
  }
}

function countWaitingMessage() {
  const count = [...$('waiting-message-text').value].length;
  $('waiting-message-count').textContent = T.waiting_message_count.replace('{count}', count).replace('{max}', config.waiting_message_max);
}

function stopShare(button) {
  if (!state.screen) return;
  peer.removeLocal('screen');
  state.screen.getTracks().forEach((t) => t.stop());
  state.screen = null;
  toggle(button, false, T.stop_share, T.share_screen);
}

async function main() {
  setPhase('before');
  wireControls();
  $('camera-select').addEventListener('change', acquire);
  $('mic-select').addEventListener('change', acquire);
  // Listen first: someone may click "join" before the camera is ready.
  $('join-button').addEventListener('click', async () => {
    $('join-button').disabled = true;
    setPhase('connecting');
    if (state.audioCtx) state.audioCtx.resume();
    await devicesReady;
    if (state.stream) {
      const [audio] = state.stream.getAudioTracks();
      const [video] = state.stream.getVideoTracks();
      if (audio) peer.setLocal('audio', audio, state.stream, T.audio);
      if (video) peer.setLocal('room_camera', video, state.stream, T.room_camera);
    }
    signal.connect();
  });
  const devicesReady = acquire().then(listDevices);
  if (location.hash === '#join') {
    history.replaceState(null, '', location.pathname + location.search);
    $('join-button').click();
  }
  await devicesReady;
}

main();
