// Live updates: the server says which kiosks changed (SSE); the page
// fetches its own server-rendered fragment again and swaps it in.
(function () {
  var watch = document.body.dataset.watch;
  if (!watch || !window.EventSource) return;
  var live = document.getElementById("live");
  var es = new EventSource("/events");
  var pending = false;
  es.onopen = function () { live.classList.remove("down"); };
  es.onerror = function () { live.classList.add("down"); };
  es.addEventListener("change", function (e) {
    var names = JSON.parse(e.data);
    if (watch !== "*" && names.indexOf(watch) < 0 && names.indexOf("*") < 0) return;
    if (pending) return;
    pending = true;
    setTimeout(refresh, 300);
  });
  function refresh() {
    var a = document.activeElement;
    if (a && (a.tagName === "SELECT" || a.tagName === "INPUT")) { setTimeout(refresh, 2000); return; }
    var u = new URL(location.href);
    u.searchParams.set("frag", "1");
    fetch(u, { credentials: "same-origin" }).then(function (r) {
      if (r.ok) return r.text();
      throw new Error(r.status);
    }).then(function (html) {
      document.getElementById("main").innerHTML = html;
      document.body.dataset.updated = String(Date.now());
      pending = false;
    }).catch(function () { pending = false; });
  }
  document.addEventListener("submit", function (e) {
    var b = e.target.querySelector("button[data-confirm]");
    if (b && b.dataset.confirm && !confirm(b.dataset.confirm)) e.preventDefault();
  });
})();
