// Hand the EHR's launch parameters to the server; never read or store tokens here.
(function () {
  var params = new URLSearchParams(window.location.search);
  var iss = params.get("iss");
  var status = document.getElementById("status");
  if (!iss) {
    status.textContent = "This page is Bedside's SMART launch URL. Open it from your EHR (it needs an iss parameter), or start a standalone launch from the Bedside home page.";
    return;
  }
  var target = new URL("/smart/launch", window.location.origin);
  target.searchParams.set("iss", iss);
  if (params.get("launch")) { target.searchParams.set("launch", params.get("launch")); }
  window.location.replace(target.toString());
})();
