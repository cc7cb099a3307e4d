// Live updates' notice and recovery, for the pages' server-sent event
// stream (htmx' SSE extension). A file, not an inline script: the CSP
// forbids those. When the stream drops the notice says "paused,
// reconnecting" (or "off" when the server refuses more streams); when it
// opens again the body is read anew, so no stale state stays on screen.
(function () {
  "use strict";
  var dropped = false;

  function notice(cls) {
    var n = document.getElementById("live-notice");
    if (!n) return;
    n.classList.remove("live-paused", "live-off");
    if (cls) n.classList.add(cls);
  }

  document.addEventListener("htmx:sseError", function () {
    dropped = true;
    notice("live-paused");
    var live = document.getElementById("live");
    var url = live && live.getAttribute("sse-connect");
    if (!url || !window.fetch) return;
    fetch(url, { method: "HEAD", cache: "no-store" }).then(function (r) {
      if (r.status === 503) notice("live-off");
    }, function () {});
  });

  document.addEventListener("htmx:sseOpen", function () {
    notice(null);
    if (!dropped) return;
    dropped = false;
    var body = document.getElementById("live-body");
    if (body && window.htmx) window.htmx.trigger(body, "live-reload");
  });
})();
