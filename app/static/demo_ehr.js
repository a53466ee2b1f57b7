// Demo EHR order entry: fires order-select on every draft change and order-sign on sign,
// renders Bedside's cards and sends feedback, like a real CDS client. No inline script (CSP).
(function () {
  "use strict";
  var chart = document.getElementById("chart");
  if (!chart) { return; }
  var drafts = [];
  var lastService = null;

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return {ok: response.ok, data: data}; });
    });
  }

  function setStatus(text) { document.getElementById("status").textContent = text; }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function renderDrafts() {
    var list = document.getElementById("drafts");
    list.replaceChildren();
    if (!drafts.length) { list.appendChild(element("li", "muted", "No draft orders.")); }
    drafts.forEach(function (id, index) {
      var option = document.querySelector('#order-choice option[value="' + id + '"]');
      var item = element("li", "draft", option ? option.textContent : id);
      var remove = element("button", "link", "Remove");
      remove.type = "button";
      remove.addEventListener("click", function () { drafts.splice(index, 1); draftsChanged(); });
      item.appendChild(remove);
      list.appendChild(item);
    });
    document.getElementById("sign-orders").disabled = !drafts.length;
  }

  var latestCall = 0;  // an answer to an earlier call that comes in late never replaces a newer one

  function callHook(hook) {
    setStatus("Calling Bedside (" + hook + ")…");
    var url = chart.dataset.hookUrl.replace("HOOK", hook);
    var call = ++latestCall;
    return post(url, {drafts: drafts}).then(function (result) {
      if (call !== latestCall) { return; }
      if (!result.ok) {
        setStatus("Bedside answered an error: " + (result.data.error ? result.data.error.message : "unknown"));
        return;
      }
      lastService = result.data.service;
      renderCards(result.data.cards);
      setStatus(hook + ": " + result.data.cards.length + " card(s).");
    });
  }

  function draftsChanged() { renderDrafts(); callHook("order-select"); }

  function renderCards(cards) {
    var holder = document.getElementById("cards");
    holder.replaceChildren();
    if (!cards.length) { holder.appendChild(element("p", "muted", "No cards.")); }
    cards.forEach(function (card) { holder.appendChild(cardElement(card)); });
  }

  // A compact card: summary, source and actions in view; the detail folds away (<details>).
  function cardElement(card) {
    var box = element("article", "card " + card.indicator);
    box.dataset.uuid = card.uuid;
    box.appendChild(element("h3", "summary", card.summary));
    box.appendChild(element("p", "source", card.source.label));
    var more = element("details", "card-detail");
    more.appendChild(element("summary", null, "Details: why, evidence, credit"));
    var detail = element("div", "detail");
    detail.innerHTML = card.detail_html;  // rendered and sanitised server-side (nh3)
    more.appendChild(detail);
    box.appendChild(more);
    var actions = element("div", "card-actions");
    (card.suggestions || []).forEach(function (suggestion) {
      var accept = element("button", "suggestion", suggestion.label);
      accept.type = "button";
      accept.addEventListener("click", function () {
        sendFeedback(card, "accepted", {suggestion: suggestion.uuid}, box);
      });
      actions.appendChild(accept);
    });
    (card.links || []).forEach(function (link) { actions.appendChild(linkElement(link)); });
    box.appendChild(actions);
    box.appendChild(dismissControls(card, box));
    return box;
  }

  function linkElement(link) {
    var anchor = element("a", "card-link " + link.type, link.label);
    anchor.href = link.url;
    if (link.type === "smart") {
      anchor.addEventListener("click", function (event) {
        event.preventDefault();
        post(chart.dataset.launchUrl, {url: link.url, appContext: link.appContext}).then(function (result) {
          if (result.ok) { window.location.assign(result.data.url); }
          else { setStatus(result.data.error.message); }
        });
      });
    } else {
      anchor.target = "_blank";
      anchor.rel = "noopener noreferrer";
    }
    return anchor;
  }

  // The override reason starts on "Choose a reason": one click cannot dismiss with a reason the
  // clinician did not pick; Dismiss says so (and the demo EHR's server refuses it too).
  function dismissControls(card, box) {
    var wrapper = element("div", "dismiss");
    var selectId = "reason-" + card.uuid;
    var label = element("label", null, "Reason for dismissing");
    label.htmlFor = selectId;
    var reasons = element("select", "override-reason");
    reasons.id = selectId;
    var placeholder = element("option", null, "Choose a reason");
    placeholder.value = "";
    placeholder.disabled = true;
    placeholder.selected = true;
    reasons.appendChild(placeholder);
    var offered = card.overrideReasons || [];
    offered.forEach(function (reason, index) {
      var option = element("option", null, reason.display);
      option.value = String(index);
      reasons.appendChild(option);
    });
    var message = element("p", "field-error");
    message.id = selectId + "-error";
    message.hidden = true;
    message.setAttribute("role", "alert");
    var dismiss = element("button", "dismiss-button secondary", "Dismiss");
    dismiss.type = "button";
    dismiss.addEventListener("click", function () {
      if (reasons.value === "") {
        showRefusal(reasons, message, "Choose a reason before you dismiss this card.");
        return;
      }
      var chosen = offered[Number(reasons.value)];
      sendFeedback(card, "overridden", {reason: chosen.code, system: chosen.system}, box, function (text) {
        showRefusal(reasons, message, text);
      });
    });
    reasons.addEventListener("change", function () {
      message.hidden = true;
      reasons.removeAttribute("aria-invalid");
    });
    wrapper.appendChild(label);
    wrapper.appendChild(reasons);
    wrapper.appendChild(dismiss);
    wrapper.appendChild(message);
    return wrapper;
  }

  function showRefusal(reasons, message, text) {
    message.textContent = text;
    message.hidden = false;
    reasons.setAttribute("aria-invalid", "true");
    reasons.setAttribute("aria-describedby", message.id);
    reasons.focus();
  }

  function sendFeedback(card, outcome, extra, box, refused) {
    var body = Object.assign({service: lastService, card: card.uuid, outcome: outcome}, extra);
    post(chart.dataset.feedbackUrl, body).then(function (result) {
      if (!result.ok) {
        var text = result.data.error ? result.data.error.message : "Feedback failed.";
        setStatus("Feedback failed: " + text);
        if (refused) { refused(text); }
        return;
      }
      box.classList.add(outcome);
      setStatus("Feedback sent (" + outcome + ").");
    });
  }

  document.getElementById("add-order").addEventListener("click", function () {
    drafts.push(document.getElementById("order-choice").value);
    draftsChanged();
  });
  document.getElementById("sign-orders").addEventListener("click", function () {
    callHook("order-sign").then(function () { setStatus("Signed (simulated). " + document.getElementById("status").textContent); });
  });
  document.getElementById("reset-demo").addEventListener("click", function () {
    post(chart.dataset.resetUrl, {}).then(function () {
      setStatus("Demo alerts reset.");
      callHook(drafts.length ? "order-select" : "patient-view");
    });
  });
  callHook("patient-view");
})();
