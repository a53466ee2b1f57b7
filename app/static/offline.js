// Offline use of Bedside's app pages (progressive enhancement: without it every form posts).
//
// Registers the service worker (sw.js, scope /app/); says in words when the device is offline;
// keeps answers given offline in IndexedDB and sends each form's fields when the connection
// returns, under the sending page's launch and CSRF token (the answer's own sign-in may have
// ended meanwhile). An answer leaves the device only once the server accepts it, or refuses it
// for good; one refused because the learner must sign in again waits for the next launch. The
// server makes a repeat harmless: a question keeps its first answer and a credit claim has one
// idempotency key per attempt, so a resend after a lost reply never counts twice. Answers are
// kept per clinician (a relaunch after an ended session brings a new cache key, not a new
// learner). Sign-out drops the kept pages and queue; a page of another clinician drops the
// queue; a page without a sign-in drops the pages and keeps the queue for the next launch.
"use strict";

(function () {
  const DATABASE = "bedside-offline";
  const QUEUE = "answers";
  const SYNC_LOCK = "bedside-offline-sync";
  const LAUNCH = "launch";
  const CSRF_FIELD = "csrf_token";
  const TOKEN_REFUSED = "X-Bedside-Token-Refused";
  const ACCEPTED = "accepted";
  const REFUSED = "refused";
  const OFFLINE = "offline";
  const SIGN_IN = "sign-in";
  const LATER = "later";
  const KEPT_BECAUSE = { [OFFLINE]: "offline", [SIGN_IN]: "signIn", [LATER]: "failed" };
  const status = document.getElementById("offline-status");
  const cacheKey = status ? status.dataset.cache : "";
  const learnerKey = status ? status.dataset.learner : "";
  const token = status ? status.dataset.token : "";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/static/sw.js", { scope: "/app/" }).catch(() => undefined);
  }
  if (!status || !("indexedDB" in window)) return;

  document.addEventListener("submit", onSubmit);
  window.addEventListener("online", () => sync());
  window.addEventListener("offline", () => say(status.dataset.offline));
  start();

  async function start() {
    if (!cacheKey) return waitForNextSignIn();
    await dropOtherLearners();
    const queuedHere = await showQueuedForms();
    if (!navigator.onLine && !queuedHere) say(status.dataset.offline);
    else if (navigator.onLine) await sync();
    if (navigator.onLine) keepRecommendedCases();
  }

  async function onSubmit(event) {
    const form = event.target;
    if (form.classList.contains("ui-account")) {
      event.preventDefault();
      await forgetEverything();
      form.submit();
      return;
    }
    if (!form.hasAttribute("data-offline-queue") || navigator.onLine) return;
    event.preventDefault();
    const body = new URLSearchParams(new FormData(form, event.submitter)).toString();
    await withQueue("readwrite", (queue) =>
      queue.add({
        cache: cacheKey,
        learner: learnerKey,
        url: form.action,
        body: body,
        page: location.href,
        title: document.title,
      }),
    );
    markQueued(form);
  }

  async function sync() {
    if (!navigator.onLine || !cacheKey) return;
    const landing = await exclusively(sendQueued);
    if (landing) location.assign(landing);
  }

  async function sendQueued() {
    const entries = (await withQueue("readonly", (queue) => queue.getAll())).filter(isMine);
    if (!entries.length) return null;
    say(status.dataset.sending);
    let landing = null;
    let held = null; // why this entry and the ones after it stay on the device
    const refused = [];
    for (const entry of entries) {
      const response = await send(entry).catch(() => null);
      const verdict = response ? outcome(response) : OFFLINE;
      if (verdict in KEPT_BECAUSE) {
        held = status.dataset[KEPT_BECAUSE[verdict]];
        break;
      }
      await withQueue("readwrite", (queue) => queue.delete(entry.id));
      if (verdict === REFUSED) refused.push(entry.title);
      else if (entry.page === location.href) landing = response.url;
    }
    const problems = [held, refused.length ? refusal(refused) : null].filter(Boolean);
    if (problems.length) {
      say(problems.join(" "));
      return null;
    }
    if (!landing) say(status.dataset.sent);
    return landing;
  }

  function send(entry) {
    const target = new URL(entry.url, location.href);
    if (target.origin !== location.origin || !target.pathname.startsWith("/app/")) {
      return Promise.resolve(new Response(null, { status: 400 })); // never Bedside's to send
    }
    return fetch(underThisLaunch(entry.url), {
      method: "POST",
      body: withThisToken(entry.body),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      credentials: "same-origin",
    });
  }

  // What the server's reply means for a kept answer. Accepted (2xx, after redirects): forgotten.
  // Sign in again (401, a 400 for the CSRF token alone): kept, sent after the next launch.
  // Try later (408, 429, 5xx; no reply at all): kept. Any other refusal (400, 403, 404, 409, 410,
  // 422...) can never be accepted: forgotten, and the learner told which answer it was.
  function outcome(response) {
    const code = response.status;
    if (response.ok) return ACCEPTED;
    if (code === 401 || response.headers.has(TOKEN_REFUSED)) return SIGN_IN;
    if (code === 408 || code === 429 || code >= 500) return LATER;
    return REFUSED;
  }

  function refusal(titles) {
    const which = titles.filter(Boolean);
    return status.dataset.refused + (which.length ? " (" + which.join("; ") + ")" : "");
  }

  function underThisLaunch(address) {
    const url = new URL(address, location.href);
    const launch = new URLSearchParams(location.search).get(LAUNCH);
    if (launch) url.searchParams.set(LAUNCH, launch);
    else url.searchParams.delete(LAUNCH);
    return url.href;
  }

  function withThisToken(body) {
    const fields = new URLSearchParams(body);
    if (token) fields.set(CSRF_FIELD, token);
    return fields.toString();
  }

  function isMine(entry) {
    return Boolean(learnerKey && entry.learner === learnerKey) || entry.cache === cacheKey;
  }

  async function showQueuedForms() {
    const entries = await withQueue("readonly", (queue) => queue.getAll());
    const queued = new Set(entries.filter((e) => e.page === location.href).map((e) => e.url));
    const forms = Array.from(document.querySelectorAll("form[data-offline-queue]"));
    const waiting = forms.filter((form) => queued.has(form.action));
    waiting.forEach(markQueued);
    return waiting.length > 0;
  }

  function markQueued(form) {
    form.querySelectorAll("input, button").forEach((field) => {
      field.disabled = true;
    });
    form.classList.add("queued");
    say(status.dataset.queued);
  }

  function keepRecommendedCases() {
    // The "What next" cases, each with its guideline summary, fetched through the worker once
    // (a kept case is refreshed when it is opened, not on every visit: bandwidth is scarce).
    const links = document.querySelectorAll(".recommendations a[href^='/app/case/']");
    const urls = new Set(Array.from(links, (link) => link.href));
    if (!urls.size || !navigator.serviceWorker || !window.caches) return;
    navigator.serviceWorker.ready.then(() => {
      urls.forEach(async (url) => {
        if (await caches.match(url)) return;
        fetch(url, { credentials: "same-origin" }).catch(() => undefined);
      });
    });
  }

  async function dropOtherLearners() {
    const entries = await withQueue("readonly", (queue) => queue.getAll());
    const others = entries.filter((entry) => !isMine(entry));
    await withQueue("readwrite", (queue) => others.forEach((entry) => queue.delete(entry.id)));
  }

  async function waitForNextSignIn() {
    // No sign-in (ended or signed out elsewhere): the answers wait for the next launch.
    await dropKeptPages().catch(() => undefined);
    const waiting = await withQueue("readonly", (queue) => queue.count());
    if (waiting) say(status.dataset.signIn);
  }

  async function forgetEverything() {
    try {
      await withQueue("readwrite", (queue) => queue.clear());
      await dropKeptPages();
    } catch (unavailable) {
      // signing out never waits on storage
    }
  }

  async function dropKeptPages() {
    if (!window.caches) return;
    const names = await caches.keys();
    await Promise.all(
      names.filter((name) => name.startsWith("bedside-pages-")).map((n) => caches.delete(n)),
    );
  }

  function say(text) {
    if (text && status.textContent !== text) status.textContent = text;
  }

  function exclusively(task) {
    if (navigator.locks) return navigator.locks.request(SYNC_LOCK, task);
    return task();
  }

  function withQueue(mode, action) {
    return openDatabase().then(
      (db) =>
        new Promise((resolve, reject) => {
          const transaction = db.transaction(QUEUE, mode);
          const request = action(transaction.objectStore(QUEUE));
          transaction.oncomplete = () => resolve(request && request.result);
          transaction.onerror = () => reject(transaction.error);
        }),
    );
  }

  function openDatabase() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DATABASE, 1);
      request.onupgradeneeded = () =>
        request.result.createObjectStore(QUEUE, { keyPath: "id", autoIncrement: true });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
})();
