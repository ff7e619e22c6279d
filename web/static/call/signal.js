// The signaling socket (protocol v1): joins, resumes after a drop with the resume token, reconnects.
export class Signal {
  constructor(url, onMessage, onState) {
    this.url = url;
    this.onMessage = onMessage;
    this.onState = onState;
    this.resumeToken = null;
    this.ended = false;
    this.attempts = 0;
    this.ws = null;
  }

  connect() {
    this.ended = false;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}${this.url}`);
    this.ws = ws;
    ws.onopen = () => {
      this.attempts = 0;
      this.onState('open');
      this.rejoin();
    };
    ws.onmessage = (event) => {
      const msg = JSON.parse(event.data);
      if (msg.resume_token) this.resumeToken = msg.resume_token;
      if (msg.type === 'error' && msg.code === 'resume_refused') {
        // The seat is gone (grace period over): take a new one.
        this.resumeToken = null;
        this.send({ type: 'join', version: 1 });
        return;
      }
      if (msg.type === 'denied' || msg.type === 'ended') this.ended = true;
      this.onMessage(msg);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws || this.ended) return;
      if (event.code === 4001) { this.ended = true; this.onState('replaced'); return; }
      this.onState('closed');
      this.attempts += 1;
      if (this.attempts > 15) { this.onState('failed'); return; }
      setTimeout(() => { if (!this.ended) this.connect(); }, Math.min(300 * this.attempts, 2000));
    };
  }

  // Whether the message went out: a socket that is not open (still connecting, or reconnecting after a
  // drop) cannot take it, and the caller must not pretend it did (nothing typed may vanish unnoticed).
  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  // Ask for a seat (again): with the resume token, the one held before a drop.
  rejoin() {
    const join = { type: 'join', version: 1 };
    if (this.resumeToken) join.resume_token = this.resumeToken;
    return this.send(join);
  }

  close() {
    this.ended = true;
    if (this.ws) this.ws.close();
  }

  // For tests and the "kill the socket" drill: drop the socket as a network failure would.
  drop() {
    if (this.ws) this.ws.close(4000, 'dropped');
  }
}
