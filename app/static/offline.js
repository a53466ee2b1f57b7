// Offline use of Bedside's app pages (progressive enhancement: without it every form posts).
//
// Registers the service worker (sw.js, scope /app/); says in words when the device is offline;
// keeps answers given offline in IndexedDB and re-sends each form exactly as it was filled in
// (its CSRF token and launch included) when the connection returns. The server makes a repeat
// harmless: a question keeps its first answer and a credit claim has one idempotency key per
// attempt, so a resend after a lost reply never counts twice. Sign-out drops the kept pages
// and queue; so does a page of another sign-in (another cache key).
"use strict";

(function () {
  const DATABASE = "bedside-offline";
  const QUEUE = "answers";
  const SYNC_LOCK = "bedside-offline-sync";
  const status = document.getElementById("offline-status");
  const cacheKey = status ? status.dataset.cache : "";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/static/sw.js", { scope: "/app/" }).catch(() => undefined);
  }
  if (!status || !("indexedDB" in window)) return;

  document.addEventListener("submit", onSubmit);
  window.addEventListener("online", () => sync());
  window.addEventListener("offline", () => say(status.dataset.offline));
  start();

  async function start() {
    if (!cacheKey) return forgetEverything(); // no sign-in: nothing of anyone's stays here
    await dropOtherSignIns();
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
      queue.add({ cache: cacheKey, url: form.action, body: body, page: location.href }),
    );
    markQueued(form);
  }

  async function sync() {
    if (!navigator.onLine || !cacheKey) return;
    const landing = await exclusively(sendQueued);
    if (landing) location.assign(landing);
  }

  async function sendQueued() {
    const entries = (await withQueue("readonly", (queue) => queue.getAll())).filter(
      (entry) => entry.cache === cacheKey,
    );
    if (!entries.length) return null;
    say(status.dataset.sending);
    let landing = null;
    for (const entry of entries) {
      let response;
      try {
        response = await fetch(entry.url, {
          method: "POST",
          body: entry.body,
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          credentials: "same-origin",
        });
      } catch (offline) {
        say(status.dataset.offline); // still offline: everything stays queued
        return null;
      }
      if (response.status >= 500) {
        say(status.dataset.failed); // kept: a later page or reconnection tries again
        return null;
      }
      await withQueue("readwrite", (queue) => queue.delete(entry.id));
      if (!response.ok) say(status.dataset.refused);
      else if (entry.page === location.href) landing = response.url;
    }
    if (!landing) say(status.dataset.sent);
    return landing;
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

  async function dropOtherSignIns() {
    const entries = await withQueue("readonly", (queue) => queue.getAll());
    const others = entries.filter((entry) => entry.cache !== cacheKey);
    await withQueue("readwrite", (queue) => others.forEach((entry) => queue.delete(entry.id)));
  }

  async function forgetEverything() {
    try {
      await withQueue("readwrite", (queue) => queue.clear());
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith("bedside-pages-")).map((n) => caches.delete(n)),
      );
    } catch (unavailable) {
      // signing out never waits on storage
    }
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
