// Live updates: the server says what changed (SSE, at most once a
// second); the page fetches only that, server-rendered, and swaps it in:
// on the overview the counts and the changed rows, elsewhere its main
// fragment. A fleet's routine health reports change nothing here.
(function () {
  var watch = document.body.dataset.watch;
  if (!watch || !window.EventSource) return;
  var live = document.getElementById("live");
  var es = new EventSource("/events?watch=" + encodeURIComponent(watch));
  var busy = false, queued = null;
  es.onopen = function () { live.classList.remove("down"); };
  es.onerror = function () { live.classList.add("down"); };
  es.addEventListener("change", function (e) {
    var d = JSON.parse(e.data);
    if (busy) { queued = merge(queued, d); return; }
    apply(d);
  });
  function merge(a, b) {
    if (!a) return b;
    return { all: a.all || b.all, summary: a.summary || b.summary, alerts: a.alerts || b.alerts,
      fleet: a.fleet || b.fleet, kiosks: (a.kiosks || []).concat(b.kiosks || []) };
  }
  function get(params) {
    var u = new URL(location.href);
    Object.keys(params).forEach(function (k) {
      u.searchParams.delete(k);
      [].concat(params[k]).forEach(function (v) { u.searchParams.append(k, v); });
    });
    return fetch(u, { credentials: "same-origin" }).then(function (r) {
      if (r.ok) return r.text();
      throw new Error(r.status);
    });
  }
  function editing() {
    var a = document.activeElement;
    return a && (a.tagName === "SELECT" || a.tagName === "INPUT");
  }
  function apply(d) {
    if (editing()) { queued = merge(queued, d); setTimeout(done, 2000); busy = true; return; }
    busy = true;
    var jobs = [];
    if (watch !== "*" || d.all) {
      jobs.push(get({ frag: "1" }).then(function (html) { document.getElementById("main").innerHTML = html; }));
    } else {
      if (d.summary || d.fleet) {
        jobs.push(get({ frag: "summary" }).then(function (html) { document.getElementById("summary").innerHTML = html; }));
      }
      var shown = (d.kiosks || []).filter(function (n) { return row(n); });
      if (shown.length) {
        jobs.push(get({ frag: "rows", k: shown }).then(function (html) {
          var t = document.createElement("tbody");
          t.innerHTML = html;
          Array.prototype.slice.call(t.children).forEach(function (tr) {
            var old = row(tr.dataset.kiosk);
            if (!old) return;
            // A kiosk the operator ticked stays ticked.
            var was = old.querySelector("input[name=k]"), now = tr.querySelector("input[name=k]");
            if (was && now) now.checked = was.checked;
            old.replaceWith(tr);
          });
        }));
      }
    }
    Promise.all(jobs).then(function () {
      document.body.dataset.updated = String(Date.now());
    }).catch(function () {}).then(done);
  }
  function row(name) {
    return document.querySelector('tr[data-kiosk="' + CSS.escape(name) + '"]');
  }
  function done() {
    busy = false;
    if (queued) { var q = queued; queued = null; apply(q); }
  }
  // Bulk selection: count the ticked kiosks; a box in the header ticks all.
  function count() {
    var c = document.getElementById("selcount");
    if (c) c.textContent = document.querySelectorAll("input[name=k]:checked").length;
  }
  document.addEventListener("change", function (e) {
    if (e.target.id === "selall") {
      document.querySelectorAll("input[name=k]").forEach(function (b) { b.checked = e.target.checked; });
    }
    if (e.target.id === "selall" || e.target.name === "k") count();
  });
  count();
  document.addEventListener("submit", function (e) {
    var b = e.target.querySelector("button[data-confirm]");
    if (b && b.dataset.confirm && !confirm(b.dataset.confirm)) e.preventDefault();
  });
})();
