// The device and connection check: camera preview, microphone level, a test sound, and a media round trip
// through our server (POST /api/connection-checks, then the offer; pings and the frame report travel on
// the check's data channel). Every word shown comes from #check-strings, in the page's language.

const root = document.getElementById("device-check");
const config = JSON.parse(document.getElementById("check-config").textContent);
const S = JSON.parse(document.getElementById("check-strings").textContent);
const csrf = root.dataset.csrf || "";
const $ = (id) => document.getElementById(id);

const LOSS_LIMIT = 0.05; // more than 5 % lost: the picture will freeze now and then
const RTT_LIMIT_MS = 400; // a longer round trip makes people talk over each other
const GATHER_LIMIT_MS = 5000; // a TURN server that does not answer must not stall the check
const CONNECT_LIMIT_MS = 12000;

let stream = null;
let audioContext = null;
let meterFrame = 0;
let running = null; // the round trip in progress: { id, pc, channel }

function say(id, text, kind = "") {
  const element = $(id);
  element.textContent = text;
  element.className = `check-verdict ${kind}`.trim();
}

function show(id, text) {
  $(id).textContent = text;
}

function format(template, n) {
  return template.replace("{n}", String(n));
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.detail || `HTTP ${response.status}`);
    error.code = data.code || "error";
    throw error;
  }
  return data;
}

// --- camera and microphone -------------------------------------------------------------------------

function deviceProblem(kind, error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") return kind === "camera" ? S.camera_denied : S.mic_denied;
  if (name === "NotFoundError" || name === "OverconstrainedError") return kind === "camera" ? S.camera_missing : S.mic_missing;
  if (kind === "camera" && (name === "NotReadableError" || name === "AbortError")) return S.camera_busy;
  return kind === "camera" ? S.camera_failed : S.mic_missing;
}

async function openDevices() {
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ video: true, audio: true }) };
  } catch (both) {
    // Ask for each alone, so the page can say which one is missing or refused.
    const tracks = [];
    const problems = {};
    for (const [kind, constraints] of [["camera", { video: true }], ["mic", { audio: true }]]) {
      try {
        const single = await navigator.mediaDevices.getUserMedia(constraints);
        tracks.push(...single.getTracks());
      } catch (error) {
        problems[kind] = deviceProblem(kind, error);
      }
    }
    return { stream: tracks.length ? new MediaStream(tracks) : null, problems };
  }
}

function startMeter(audioTrack) {
  audioContext = audioContext || new AudioContext();
  audioContext.resume().catch(() => {});
  const source = audioContext.createMediaStreamSource(new MediaStream([audioTrack]));
  const analyser = audioContext.createAnalyser();
  analyser.fftSize = 1024;
  source.connect(analyser);
  const samples = new Uint8Array(analyser.fftSize);
  const meter = $("mic-level");
  const started = performance.now();
  let heard = false;
  say("mic-verdict", S.mic_quiet);
  const tick = () => {
    analyser.getByteTimeDomainData(samples);
    let sum = 0;
    for (const sample of samples) sum += ((sample - 128) / 128) ** 2;
    const level = Math.min(100, Math.round(Math.sqrt(sum / samples.length) * 300));
    meter.value = level;
    meter.textContent = String(level);
    if (!heard && level >= 8) {
      heard = true;
      say("mic-verdict", S.mic_ok, "good");
    } else if (!heard && performance.now() - started > 4000) {
      say("mic-verdict", S.mic_quiet, "bad");
    }
    meterFrame = requestAnimationFrame(tick);
  };
  tick();
}

// --- speaker ---------------------------------------------------------------------------------------

function playTone() {
  audioContext = audioContext || new AudioContext();
  audioContext.resume().catch(() => {});
  const now = audioContext.currentTime;
  const gain = audioContext.createGain();
  gain.gain.setValueAtTime(0.0001, now);
  gain.gain.exponentialRampToValueAtTime(0.3, now + 0.05);
  gain.gain.setValueAtTime(0.3, now + 1.1);
  gain.gain.exponentialRampToValueAtTime(0.0001, now + 1.3);
  gain.connect(audioContext.destination);
  // Two friendly notes, easy to tell from background noise.
  for (const [frequency, start] of [[523.25, 0], [659.25, 0.6]]) {
    const oscillator = audioContext.createOscillator();
    oscillator.frequency.value = frequency;
    oscillator.connect(gain);
    oscillator.start(now + start);
    oscillator.stop(now + start + 0.7);
  }
  $("speaker-answer").hidden = false;
  say("speaker-verdict", "");
}

// --- the round trip through our server ------------------------------------------------------------

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_LIMIT_MS);
  });
}

async function until(predicate, limitMs) {
  const deadline = performance.now() + limitMs;
  while (!predicate()) {
    if (performance.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

async function measure(pc) {
  const stats = await pc.getStats();
  const result = { via: null, rtt: null, lost: 0, received: 0, videoFrames: 0 };
  let pairId = null;
  stats.forEach((report) => {
    if (report.type === "transport" && report.selectedCandidatePairId) pairId = report.selectedCandidatePairId;
  });
  stats.forEach((report) => {
    const selected = pairId ? report.id === pairId : report.type === "candidate-pair" && report.nominated && report.state === "succeeded";
    if (report.type === "candidate-pair" && selected) {
      const local = stats.get(report.localCandidateId);
      result.via = local ? local.candidateType : null;
      if (typeof report.currentRoundTripTime === "number") result.rtt = report.currentRoundTripTime * 1000;
    }
    if (report.type === "inbound-rtp") {
      result.lost += Math.max(0, report.packetsLost || 0);
      result.received += report.packetsReceived || 0;
      if (report.kind === "video") result.videoFrames += report.framesDecoded || 0;
    }
  });
  return result;
}

function closeRoundTrip(leaving = false) {
  const current = running;
  running = null;
  if (!current) return;
  try {
    if (current.channel.readyState === "open") current.channel.send(JSON.stringify({ type: "bye" }));
  } catch (error) {
    // the channel is going anyway
  }
  current.pc.close();
  // keepalive: the request still goes out while the page is being left.
  fetch(`${config.api}/${encodeURIComponent(current.id)}`, {
    method: "DELETE", keepalive: leaving, headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
    credentials: "same-origin",
  }).catch(() => {});
}

async function roundTrip() {
  for (const id of ["result-connected", "result-via", "result-rtt", "result-loss", "result-video"]) show(id, "–");
  if (!window.RTCPeerConnection) {
    say("network-verdict", S.network_unsupported, "bad");
    return;
  }
  say("network-verdict", S.network_running);
  let check;
  try {
    check = await api("POST", config.api, {});
  } catch (error) {
    const text = { check_busy: S.network_busy, rate_limited: S.network_rate_limited }[error.code] || S.network_error;
    say("network-verdict", text, "bad");
    return;
  }
  const pc = new RTCPeerConnection({ iceServers: check.ice_servers });
  const channel = pc.createDataChannel("check");
  running = { id: check.id, pc, channel };
  const sentVideo = Boolean(stream && stream.getVideoTracks().length);
  for (const track of stream ? stream.getTracks() : []) pc.addTransceiver(track, { direction: "sendrecv" });
  pc.addEventListener("track", (event) => {
    if (event.track.kind === "video") $("check-echo").srcObject = new MediaStream([event.track]);
  });
  const rtts = [];
  const pingsSent = new Map();
  let report = null;
  channel.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (message.type === "pong" && pingsSent.has(message.seq)) rtts.push(performance.now() - pingsSent.get(message.seq));
    if (message.type === "report") report = message;
  });
  try {
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const answer = await api("POST", `${config.api}/${encodeURIComponent(check.id)}/offer`,
      { type: "offer", sdp: pc.localDescription.sdp });
    await pc.setRemoteDescription(answer);
  } catch (error) {
    closeRoundTrip();
    say("network-verdict", S.network_error, "bad");
    return;
  }
  const connected = await until(() => pc.connectionState === "connected" && channel.readyState === "open",
    CONNECT_LIMIT_MS);
  show("result-connected", connected ? S.yes : S.no);
  if (!connected) {
    closeRoundTrip();
    say("network-verdict", S.network_no_connection, "bad");
    return;
  }
  const seconds = Math.min(config.seconds, check.time_limit_seconds - 5);
  for (let seq = 0; seq < seconds * 4 && running && running.pc === pc; seq += 1) {
    pingsSent.set(seq, performance.now());
    channel.send(JSON.stringify({ type: "ping", seq }));
    await sleep(250);
  }
  const measured = await measure(pc);
  if (channel.readyState === "open") channel.send(JSON.stringify({ type: "report" }));
  await until(() => report !== null, 2000);
  if (sentVideo && measured.videoFrames === 0) {
    // Give a slow network a moment more for the first picture before calling it lost.
    await until(() => $("check-echo").videoWidth > 0, 3000);
    Object.assign(measured, await measure(pc));
  }
  closeRoundTrip();

  const sorted = [...rtts].sort((a, b) => a - b);
  const rtt = sorted.length ? sorted[Math.floor(sorted.length / 2)] : measured.rtt;
  const total = measured.lost + measured.received;
  const loss = total > 0 ? measured.lost / total : null;
  const videoBack = measured.videoFrames > 0;
  show("result-via", S[`via_${measured.via}`] || S.via_unknown);
  show("result-rtt", rtt === null ? S.not_measured : format(S.ms, Math.round(rtt)));
  show("result-loss", loss === null ? S.not_measured : format(S.percent, Math.round(loss * 1000) / 10));
  show("result-video", sentVideo ? (videoBack ? S.yes : S.no) : S.not_measured);
  root.dataset.via = measured.via || "";
  if (sentVideo && !videoBack) say("network-verdict", S.network_no_video_back, "bad");
  else if ((loss !== null && loss > LOSS_LIMIT) || (rtt !== null && rtt > RTT_LIMIT_MS)) say("network-verdict", S.network_slow, "bad");
  else if (!sentVideo) say("network-verdict", S.network_no_camera, "good");
  else say("network-verdict", S.network_ok, "good");
}

// --- the whole check -------------------------------------------------------------------------------

function stopDevices() {
  cancelAnimationFrame(meterFrame);
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
}

async function runCheck() {
  $("check-run").disabled = true;
  $("check-again").hidden = true;
  closeRoundTrip();
  stopDevices();
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    say("camera-verdict", S.network_unsupported, "bad");
  } else {
    const opened = await openDevices();
    stream = opened.stream;
    const problems = opened.problems || {};
    $("check-preview").srcObject = stream;
    const video = stream && stream.getVideoTracks()[0];
    const audio = stream && stream.getAudioTracks()[0];
    say("camera-verdict", video ? S.camera_ok : problems.camera || S.camera_missing, video ? "good" : "bad");
    if (audio) startMeter(audio);
    else say("mic-verdict", problems.mic || S.mic_missing, "bad");
  }
  await roundTrip();
  $("check-again").hidden = false;
  $("check-run").disabled = false;
}

$("check-run").addEventListener("click", runCheck);
$("check-again").addEventListener("click", runCheck);
$("speaker-play").addEventListener("click", playTone);
$("speaker-yes").addEventListener("click", () => say("speaker-verdict", S.speaker_ok, "good"));
$("speaker-no").addEventListener("click", () => say("speaker-verdict", S.speaker_not_heard, "bad"));
window.addEventListener("pagehide", () => {
  closeRoundTrip(true);
  stopDevices();
});
if (!window.RTCPeerConnection || !navigator.mediaDevices) {
  say("check-unsupported", S.network_unsupported, "bad");
  $("check-unsupported").hidden = false;
}
