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

const state = {
  me: null, admitted: false, roster: [], stream: null, exam: null, screen: null,
  audioCtx: null, meterRaf: 0, lostSince: 0, fallbackTimer: 0, peerResetTimer: 0, restartOnResume: false,
  ended: false,
};
window.samkonsult = state; // for the browser tests and the curious

function show(id, visible) { $(id).hidden = !visible; }
function status(text) { $('call-status').textContent = text; }
function roleName(role) { return T[role] || role; }

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
  } else {
    const tile = addTile(`r-${mid}`, stream, `${nameOf(info.participant_id)} · ${T[info.label] || info.label}`, { muted: true });
    tile.dataset.participant = info.participant_id;
    tile.dataset.label = info.label;
    remote.set(mid, { node: tile, info });
  }
}

function removeRemote(mid) {
  const entry = remote.get(mid);
  if (entry) { entry.node.remove(); remote.delete(mid); }
}

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
  if (s === 'closed') mediaLost();
  if (s === 'failed') showFallback();
  if (s === 'replaced') finish(T.ended);
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
  if (state.ended) return;
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

function showFallback() {
  show('fallback', true);
  status(T.media_failed);
}

async function onMessage(msg) {
  switch (msg.type) {
    case 'waiting':
      state.me = msg.participant_id;
      show('waiting-room', true);
      status(T.waiting);
      break;
    case 'admitted':
      state.me = msg.participant_id;
      peer.iceServers = (msg.ice_servers || []).map((s) => ({ urls: s.urls, username: s.username || undefined, credential: s.credential || undefined }));
      enterCall();
      // After a resumed socket the server's peer connection is still ours: keep a healthy one.
      if (!peerUsable()) { state.restartOnResume = false; await peer.start(); }
      break;
    case 'resumed':
      state.me = msg.participant_id;
      if (signal.ws) show('reconnecting', false);
      if (msg.status === 'admitted' && !peerUsable()) { state.restartOnResume = false; await peer.start(); }
      else if (msg.status === 'admitted') peer.resendOffer();
      if (msg.status === 'admitted') mediaRestored();
      break;
    case 'denied': finish(T.denied); break;
    case 'ended': finish(msg.reason === 'removed' ? T.removed : T.ended); break;
    case 'roster': renderRoster(msg.participants); break;
    case 'waiting_list': renderWaiting(msg.participants); break;
    case 'media_map': peer.onMediaMap(msg.tracks); break;
    case 'offer': await peer.onOffer(msg.sdp); break;
    case 'answer': await peer.onAnswer(msg.sdp); break;
    case 'media_restart':
      clearTimeout(state.peerResetTimer);
      state.restartOnResume = false;
      await peer.start();
      break;
    case 'bitrate': await peer.setBitrate(msg.max_video_kbps); break;
    case 'chat': addChat(msg); break;
    case 'reading': addReading(msg); break;
    case 'invited': showInvite(msg); break;
    case 'error': onError(msg); break;
    default: break;
  }
}

function onError(msg) {
  if (msg.code === 'room_not_open') { status(T.not_open); signal.close(); showRejoin(T.not_open); return; }
  if (msg.code === 'room_closed') { finish(T.closed); return; }
  if (msg.code === 'negotiation_collision') return; // offers crossed: peer.js rolls back and offers again
  status(`${T.error} ${msg.message}`);
}

function enterCall() {
  state.admitted = true;
  show('precall', false);
  show('waiting-room', false);
  show('after', false);
  show('incall', true);
  status(T.in_call);
  cancelAnimationFrame(state.meterRaf);
  if (state.stream && !document.querySelector('[data-key="local"]')) {
    addTile('local', state.stream, `${config.name} (${T.you})`, { muted: true, local: true });
  }
}

function finish(text) {
  state.ended = true;
  signal.close();
  peer.close();
  clearTimeout(state.fallbackTimer);
  show('reconnecting', false);
  show('incall', false);
  show('waiting-room', false);
  showRejoin(text);
}

function showRejoin(text) {
  $('after-text').textContent = text;
  show('after', true);
}

function renderRoster(participants) {
  state.roster = participants;
  const list = $('roster');
  list.replaceChildren();
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
  const time = new Date(msg.sent_at).toLocaleTimeString(document.documentElement.lang, { hour: '2-digit', minute: '2-digit' });
  $('chat-log').append(el('li', {}, `${time} ${msg.display_name}: ${msg.text}`));
}

function addReading(msg) {
  const names = {};
  for (const option of document.querySelectorAll('#reading-name option')) names[option.value] = option.textContent;
  const time = new Date(msg.taken_at).toLocaleTimeString(document.documentElement.lang, { hour: '2-digit', minute: '2-digit' });
  const label = names[msg.name] || msg.name;
  $('readings').append(el('li', { 'data-reading': msg.name }, `${time} ${label}: ${msg.value} ${msg.unit} (${msg.display_name})`));
}

function showInvite(msg) {
  const link = config.join_url;
  $('invite-result').textContent = T.invited.replace('{name}', msg.name).replace('{code}', msg.code || '').replace('{link}', link);
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
  $('exam-button').addEventListener('click', async (e) => {
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
  $('screen-button').addEventListener('click', async (e) => {
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
    finish(T.left);
  });
  const end = $('end-button');
  if (end) end.addEventListener('click', () => signal.send({ type: 'end' }));
  $('rejoin-button').addEventListener('click', () => {
    state.ended = false;
    show('after', false);
    signal.resumeToken = null;
    signal.connect();
  });
  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('chat-text');
    if (!input.value.trim()) return;
    signal.send({ type: 'chat', text: input.value });
    input.value = '';
  });
  const invite = $('invite-form');
  if (invite) invite.addEventListener('submit', (e) => {
    e.preventDefault();
    signal.send({ type: 'invite', name: $('invite-name').value, role: $('invite-role').value });
  });
  const reading = $('reading-form');
  if (reading) {
    const unit = () => $('reading-name').selectedOptions[0].dataset.unit;
    $('reading-name').addEventListener('change', () => { $('reading-unit').textContent = unit(); });
    reading.addEventListener('submit', (e) => {
      e.preventDefault();
      const name = $('reading-name').value;
      const raw = $('reading-value').value.trim().replace(',', '.');
      const value = name === 'blood_pressure' ? raw : Number(raw);
      signal.send({ type: 'reading', name, value, unit: unit(), taken_at: new Date().toISOString() });
      $('reading-value').value = '';
    });
  }
}

function stopShare(button) {
  if (!state.screen) return;
  peer.removeLocal('screen');
  state.screen.getTracks().forEach((t) => t.stop());
  state.screen = null;
  toggle(button, false, T.stop_share, T.share_screen);
}

async function main() {
  wireControls();
  $('camera-select').addEventListener('change', acquire);
  $('mic-select').addEventListener('change', acquire);
  // Listen first: someone may click "join" before the camera is ready.
  $('join-button').addEventListener('click', async () => {
    $('join-button').disabled = true;
    status(T.connecting);
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
  await devicesReady;
}

main();
