// The send-code panel (web/templates/_send_code.html): copy a join code with its link, send it by text
// message or email, and follow the message until it is sent.
//
// On the booking page the panel arrives filled in and its form posts to the page (no script needed to
// send). In the call the code is made over the socket and call.js announces it with a
// "samkonsult:invited" event, which this module listens for. There the form goes to the JSON API
// instead, so nobody leaves the call to send a code.
const $ = (id) => document.getElementById(id);
const POLL_MS = 3000;
const POLL_LIMIT = 100; // about five minutes; the page says "queued" truthfully after that

function panel() { return $('send-code'); }
function strings() { return JSON.parse($('send-code-strings').textContent); }
function inCall() { return Boolean(panel() && panel().closest('#call')); }
function apiBase() { return $('send-code-form').dataset.api; }

function stateText(state, channel, to) {
  const text = strings()[`${state}_${channel}`];
  return text ? text.replace('{to}', to) : '';
}

async function copy() {
  const text = `${$('send-code-code').textContent.trim()}\n${$('send-code-link').textContent.trim()}`;
  const note = $('send-code-copied');
  try {
    await navigator.clipboard.writeText(text);
    note.textContent = strings().copied;
  } catch (err) {
    note.textContent = strings().copy_failed;
  }
}

function showCode(code, name) {
  $('send-code-code').textContent = code;
  $('send-code-value').value = code;
  $('send-code-name').value = name;
  $('send-code-title').textContent = strings().code_for.replace('{name}', name);
  $('send-code-copied').textContent = '';
  const status = $('send-code-status');
  status.textContent = '';
  delete status.dataset.message;
  panel().hidden = false;
}

// --- following a sent message ------------------------------------------------------------------------

let pollTimer = 0;

function follow(messageId, channel, to, tries = 0) {
  clearTimeout(pollTimer);
  const status = $('send-code-status');
  status.dataset.message = String(messageId);
  if (status.dataset.state !== 'queued' || tries >= POLL_LIMIT) return;
  pollTimer = setTimeout(async () => {
    if (status.dataset.message !== String(messageId)) return; // a newer message replaced this one
    try {
      const resp = await fetch(`${apiBase()}/messages/${messageId}`, { headers: { Accept: 'application/json' } });
      if (resp.ok) {
        const body = await resp.json();
        if (body.state !== status.dataset.state) {
          status.dataset.state = body.state;
          status.textContent = stateText(body.state, channel, to);
        }
      }
    } catch (err) {
      // the network hiccuped: the message is in the outbox all the same; ask again next round
    }
    follow(messageId, channel, to, tries + 1);
  }, POLL_MS);
}

// --- sending from the call -----------------------------------------------------------------------------

function clearErrors(form) {
  for (const node of form.querySelectorAll('.js-error')) node.remove();
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

function markError(form, field, channel, message) {
  const id = { to: channel === 'email' ? 'send-code-email' : 'send-code-phone', language: 'send-code-language' }[field];
  const input = id ? $(id) : null;
  const error = document.createElement('p');
  error.className = 'field-error js-error';
  error.textContent = message;
  if (input) {
    error.id = `${id}-error`;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', error.id);
    input.after(error);
  } else {
    form.prepend(error);
  }
}

async function sendFromCall(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const channel = event.submitter && event.submitter.value === 'email' ? 'email' : 'sms';
  const status = $('send-code-status');
  clearErrors(form);
  status.dataset.state = '';
  status.textContent = strings().sending;
  const body = {
    code: $('send-code-value').value, channel, language: $('send-code-language').value,
    to: channel === 'email' ? $('send-code-email').value : $('send-code-phone').value,
  };
  let resp;
  try {
    resp = await fetch(`${apiBase()}/send`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json',
                 'X-CSRF-Token': form.querySelector('[data-csrf]').value },
      body: JSON.stringify(body),
    });
  } catch (err) {
    status.textContent = `${strings().error} ${err.message}`;
    return;
  }
  const answer = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    // What was typed stays in the fields; each problem is shown beside its field.
    status.textContent = `${strings().error} ${answer.title || resp.status}`;
    for (const e of answer.errors || []) markError(form, e.field, channel, e.message);
    return;
  }
  status.dataset.state = answer.state;
  status.textContent = stateText(answer.state, answer.channel, answer.to);
  follow(answer.message_id, answer.channel, answer.to);
}

// --- wiring -----------------------------------------------------------------------------------------

function watchCallInvites() {
  // call.js announces each code the server made for this person's invite.
  document.addEventListener('samkonsult:invited', (event) => {
    const { name, code } = event.detail;
    if (code && code !== $('send-code-value').value) showCode(code, name);
  });
}

function main() {
  if (!panel()) return;
  $('send-code-copy').addEventListener('click', copy);
  if (inCall()) {
    $('send-code-form').addEventListener('submit', sendFromCall);
    watchCallInvites();
  }
  const status = $('send-code-status');
  if (status.dataset.message) follow(Number(status.dataset.message), status.dataset.channel, status.dataset.to);
}

main();
