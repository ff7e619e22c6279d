// One RTCPeerConnection to the server. The client is the polite peer: it rolls back its own offer when
// the server's arrives, answers, and offers again. Tracks are labelled with `track` messages first.
export class Peer {
  constructor(signal, { onRemoteTrack, onRemoteGone, onConnection }) {
    this.signal = signal;
    this.onRemoteTrack = onRemoteTrack;
    this.onRemoteGone = onRemoteGone;
    this.onConnection = onConnection;
    this.iceServers = [];
    this.local = new Map(); // kind -> {track, stream, label}
    this.mediaMap = new Map(); // mid -> {participant_id, label, kind, live}
    this.unmapped = new Map(); // mid -> remote track that arrived before its entry in the media map
    this.queue = Promise.resolve(); // remote descriptions, applied in the order they came
    this.maxVideoKbps = 0;
    this.pc = null;
    this.pendingOffer = false;
    this.makingOffer = false;
  }

  setLocal(kind, track, stream, label) {
    this.local.set(kind, { track, stream, label });
  }

  removeLocal(kind) {
    const entry = this.local.get(kind);
    this.local.delete(kind);
    if (!entry || !this.pc) return;
    const sender = this.pc.getSenders().find((s) => s.track === entry.track);
    if (sender) {
      this.pc.removeTrack(sender);
      this.negotiate();
    }
  }

  async addLocal(kind, track, stream, label) {
    this.setLocal(kind, track, stream, label);
    if (!this.pc) return;
    this.announce(kind, track, label);
    this.pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    await this.negotiate();
  }

  announce(kind, track, label) {
    this.signal.send({ type: 'track', track_id: track.id, kind, label });
  }

  async start() {
    this.close();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    pc.ontrack = (event) => {
      const mid = event.transceiver.mid;
      const info = this.mediaMap.get(mid);
      // The track can arrive before the map that says whose it is: keep it until the map comes.
      if (info) this.onRemoteTrack(mid, info, event.track);
      else this.unmapped.set(mid, event.track);
    };
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      this.onConnection(pc.connectionState);
    };
    let hasMedia = false;
    for (const [kind, { track, stream, label }] of this.local) {
      this.announce(kind, track, label);
      pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
      hasMedia = true;
    }
    if (!hasMedia) {
      // Someone without camera and microphone still offers, so the server can send them the others.
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
    }
    await this.negotiate();
  }

  async negotiate() {
    const pc = this.pc;
    if (!pc) return;
    if (this.makingOffer || pc.signalingState !== 'stable') { this.pendingOffer = true; return; }
    this.makingOffer = true;
    this.pendingOffer = false;
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      // A server offer that arrived while we gathered rolled ours back and was answered: what is local
      // now is that answer, not our offer. Sending it as an offer stalled the negotiation for good.
      if (this.pc === pc && pc.signalingState === 'have-local-offer' && pc.localDescription.type === 'offer') {
        this.signal.send({ type: 'offer', sdp: pc.localDescription.sdp });
      }
    } finally {
      this.makingOffer = false;
    }
    // The rolled-back offer (or tracks added meanwhile) is offered again once nothing else is under way.
    if (this.pendingOffer && this.pc === pc && pc.signalingState === 'stable') await this.negotiate();
  }

  // An offer sent on a socket that then died never reached the server: send it again on the new one.
  resendOffer() {
    const pc = this.pc;
    if (pc && pc.signalingState === 'have-local-offer' && pc.localDescription && !this.makingOffer) {
      this.signal.send({ type: 'offer', sdp: pc.localDescription.sdp });
    }
  }

  // Answers and offers are applied one after the other: socket messages arrive while an earlier
  // setRemoteDescription is still running, and an offer handled then saw "have-local-offer", rolled
  // back, and the remote tracks of the answer never appeared.
  serial(work) {
    const next = this.queue.then(work);
    this.queue = next.catch((error) => console.error('negotiation failed', error));
    return next;
  }

  onAnswer(sdp) {
    return this.serial(async () => {
      const pc = this.pc;
      if (!pc || pc.signalingState !== 'have-local-offer') return;
      await pc.setRemoteDescription({ type: 'answer', sdp });
      await this.applyBitrate();
      if (this.pendingOffer) await this.negotiate();
    });
  }

  onMediaMap(tracks) {
    for (const t of tracks) {
      this.mediaMap.set(t.mid, t);
      if (!t.live) {
        this.unmapped.delete(t.mid);
        this.onRemoteGone(t.mid);
        continue;
      }
      const early = this.unmapped.get(t.mid);
      if (early) {
        this.unmapped.delete(t.mid);
        this.onRemoteTrack(t.mid, t, early);
      }
    }
  }

  onOffer(sdp) {
    return this.serial(async () => {
      const pc = this.pc;
      if (!pc) return;
      if (pc.signalingState !== 'stable') {
        await pc.setLocalDescription({ type: 'rollback' });
        this.pendingOffer = true; // the server refused ours as a collision; offer again afterwards
      }
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      this.signal.send({ type: 'answer', sdp: pc.localDescription.sdp });
      if (this.pendingOffer) await this.negotiate();
    });
  }

  async setBitrate(kbps) {
    this.maxVideoKbps = kbps;
    await this.applyBitrate();
  }

  async applyBitrate() {
    if (!this.pc || !this.maxVideoKbps) return;
    for (const sender of this.pc.getSenders()) {
      if (!sender.track || sender.track.kind !== 'video') continue;
      const params = sender.getParameters();
      if (!params.encodings || !params.encodings.length) continue;
      params.encodings[0].maxBitrate = this.maxVideoKbps * 1000;
      try { await sender.setParameters(params); } catch (e) { /* not negotiated yet; next answer */ }
    }
  }

  close() {
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      pc.close();
    }
    for (const mid of this.mediaMap.keys()) this.onRemoteGone(mid);
    this.mediaMap.clear();
    this.unmapped.clear();
  }
}

// aiortc takes no trickled candidates in practice: send offers with the candidates inside.
function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { pc.removeEventListener('icegatheringstatechange', check); resolve(); };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    pc.addEventListener('icegatheringstatechange', check);
    setTimeout(done, 2000);
  });
}
