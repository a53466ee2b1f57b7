// Bedside's service worker, scoped to /app/: a learner's own pages readable offline.
//
// Pages come from the network first; a copy is kept only when the server marks the page as free of
// patient data (X-Bedside-Offline: keep; anything else is network-only, as Cache Storage ignores
// no-store) and names its learner's cache (X-Bedside-Offline-Cache), so one learner's pages never
// sit beside another's: any page that names another key, kept or not (a launch with a patient),
// drops the cache, and /app answering 401 (signed out) drops it. Without a connection the kept
// copy is shown, else the kept "not saved offline" page. Posts are never
// answered here: offline answers are queued by offline.js and re-sent with their own keys.
"use strict";

const SHELL_CACHE = "bedside-shell-v1";
const PAGES_PREFIX = "bedside-pages-";
const CACHE_HEADER = "X-Bedside-Offline-Cache";
const KEEP_HEADER = "X-Bedside-Offline";
const SHELL = ["/static/bedside.css", "/static/offline.js", "/static/favicon.svg"];
const FALLBACK = "/app/offline";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(dropCaches((name) => name.startsWith("bedside-shell-") && name !== SHELL_CACHE)
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/app/")) event.respondWith(appPage(request));
  else if (SHELL.includes(url.pathname)) event.respondWith(shellFile(request, event));
});

async function appPage(request) {
  let response;
  try {
    response = await fetch(request);
  } catch (offline) {
    return (await keptPage(request)) || offlinePage(request);
  }
  await keep(request, response);
  return response;
}

async function keep(request, response) {
  const key = response.headers.get(CACHE_HEADER);
  if (response.status === 401) return dropPages();
  if (!key) return;
  const name = PAGES_PREFIX + key;
  await dropCaches((other) => other.startsWith(PAGES_PREFIX) && other !== name);
  if (!keepable(response)) return;
  const cache = await caches.open(name);
  await cache.put(request, response.clone());
  const url = new URL(request.url);
  if (!(await cache.match(FALLBACK, { ignoreSearch: true }))) {
    await keepFallback(cache, url.searchParams.get("launch"));
  }
}

async function keepFallback(cache, launch) {
  const url = FALLBACK + (launch ? "?launch=" + encodeURIComponent(launch) : "");
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (keepable(response)) await cache.put(FALLBACK, response);
  } catch (offline) {
    // kept on the next page instead
  }
}

function keepable(response) {
  const marked = response.headers.get(KEEP_HEADER) === "keep";
  return marked && response.status === 200 && !response.redirected;
}

async function keptPage(request) {
  const name = (await caches.keys()).find((each) => each.startsWith(PAGES_PREFIX));
  if (!name) return undefined;
  return (await caches.open(name)).match(request, { ignoreVary: true });
}

async function offlinePage(request) {
  const name = (await caches.keys()).find((each) => each.startsWith(PAGES_PREFIX));
  const kept = name && (await (await caches.open(name)).match(FALLBACK));
  if (kept && request.mode === "navigate") return kept;
  return Response.error();
}

async function shellFile(request, event) {
  const cache = await caches.open(SHELL_CACHE);
  const fresh = fetch(request).then((response) => {
    if (response.ok) return cache.put(request, response.clone()).then(() => response);
    return response;
  });
  const kept = await cache.match(request, { ignoreSearch: true });
  if (!kept) return fresh;
  // The kept copy answers now; the HTTP cache revalidates it (a 304) for the next page.
  event.waitUntil(fresh.catch(() => undefined));
  return kept;
}

function dropPages() {
  return dropCaches((name) => name.startsWith(PAGES_PREFIX));
}

async function dropCaches(matches) {
  const names = (await caches.keys()).filter(matches);
  await Promise.all(names.map((name) => caches.delete(name)));
}
