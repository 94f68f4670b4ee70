"use strict";
// The kiosk's screen: frames arrive on a WebSocket as PNG tiles of what
// changed (display/web batch.go); pointer, touch and key input goes back
// as small JSON messages (message.go).
(() => {
  const canvas = document.getElementById("screen");
  const W = canvas.width, H = canvas.height, boot = canvas.dataset.boot;
  const g = canvas.getContext("2d", {alpha: false});
  g.imageSmoothingEnabled = false;
  const panel = document.getElementById("panel");
  const status = document.getElementById("status");
  const strip = document.getElementById("strip");

  // What the page measured, for tests and curious developers: frame
  // batches drawn, their bytes, and the time from each input sent to the
  // first batch drawn after it (ms).
  const kiosk = window.kiosk = {frames: 0, bytes: 0, latencies: [], connected: false, waiters: []};
  // next resolves once the next batch is drawn.
  kiosk.next = () => new Promise(resolve => kiosk.waiters.push(resolve));

  // The panel fills the window as far as its aspect ratio allows.
  function fit() {
    const s = Math.min(panel.clientWidth / W, panel.clientHeight / H);
    canvas.style.width = (W * s) + "px";
    canvas.style.height = (H * s) + "px";
  }
  window.addEventListener("resize", fit);
  fit();

  function show(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  let ws = null, inputAt = 0, queue = Promise.resolve(), retries = 0;

  function send(m) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  }
  // input sends what the person did; the next batch drawn ends its latency.
  function input(m) {
    if (!inputAt) inputAt = performance.now();
    send(m);
  }

  function connect() {
    show("Connecting to the kiosk…");
    const u = new URL("ws", location.href);
    u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const sock = ws = new WebSocket(u);
    sock.binaryType = "arraybuffer";
    sock.onmessage = e => {
      if (typeof e.data === "string") {
        const m = JSON.parse(e.data);
        if (m.t === "hello" && m.boot !== boot) {
          location.reload(); // a new kiosk run: its size or controls may differ
        } else if (m.t === "hello") {
          retries = 0;
          kiosk.connected = true;
          show("");
        }
        return;
      }
      const buf = e.data;
      queue = queue.then(() => draw(sock, buf)).catch(err => console.error("kiosk frame:", err));
    };
    sock.onclose = e => {
      if (ws !== sock) return;
      kiosk.connected = false;
      show(e.reason === "kiosk stopped" ? "The kiosk has stopped. Waiting for it to start again…"
        : "Not connected to the kiosk. Trying again…");
      setTimeout(connect, Math.min(5000, 500 * ++retries));
    };
  }

  // draw draws one batch at once, then tells the server it was drawn.
  async function draw(sock, buf) {
    const dv = new DataView(buf);
    if (dv.getUint8(0) !== 0x4b || dv.getUint8(1) !== 0x46 || dv.getUint8(2) !== 1) throw new Error("not a frame batch");
    const seq = dv.getUint32(4, true), n = dv.getUint16(8, true);
    const tiles = [];
    let off = 10;
    for (let i = 0; i < n; i++) {
      const x = dv.getUint16(off, true), y = dv.getUint16(off + 2, true), len = dv.getUint32(off + 4, true);
      off += 8;
      tiles.push({x, y, png: new Blob([new Uint8Array(buf, off, len)], {type: "image/png"})});
      off += len;
    }
    const bitmaps = await Promise.all(tiles.map(t =>
      createImageBitmap(t.png, {premultiplyAlpha: "none", colorSpaceConversion: "none"})));
    bitmaps.forEach((b, i) => { g.drawImage(b, tiles[i].x, tiles[i].y); b.close(); });
    kiosk.frames++;
    kiosk.bytes += buf.byteLength;
    if (inputAt) {
      kiosk.latencies.push(performance.now() - inputAt);
      if (kiosk.latencies.length > 1000) kiosk.latencies.shift();
      inputAt = 0;
    }
    if (sock.readyState === WebSocket.OPEN) sock.send(JSON.stringify({t: "drawn", n: seq}));
    const waiters = kiosk.waiters;
    kiosk.waiters = [];
    waiters.forEach(resolve => resolve());
  }

  // pos is the event's place in frame pixels.
  function pos(e) {
    const r = canvas.getBoundingClientRect();
    return {x: Math.floor((e.clientX - r.left) * W / r.width), y: Math.floor((e.clientY - r.top) * H / r.height)};
  }
  // Pointers the kiosk knows are down: the mouse is 0, a touch its own id.
  const down = new Map();
  canvas.addEventListener("pointerdown", e => {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault();
    canvas.focus();
    try { canvas.setPointerCapture(e.pointerId); } catch (_) { /* a synthetic event */ }
    const p = e.pointerType === "mouse" ? 0 : 1 + e.pointerId % 65534;
    down.set(e.pointerId, p);
    input({t: "down", ...pos(e), p});
  });
  canvas.addEventListener("pointermove", e => {
    const p = down.get(e.pointerId);
    if (p !== undefined) send({t: "move", ...pos(e), p});
  });
  for (const [type, t] of [["pointerup", "up"], ["pointercancel", "cancel"]]) {
    canvas.addEventListener(type, e => {
      const p = down.get(e.pointerId);
      if (p === undefined) return;
      down.delete(e.pointerId);
      input({t, ...pos(e), p});
    });
  }
  canvas.addEventListener("contextmenu", e => e.preventDefault());

  const named = new Set(["Backspace", "Enter", "Tab", "Escape"]);
  window.addEventListener("keydown", e => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (e.target instanceof HTMLButtonElement && (e.key === "Enter" || e.key === " ")) return;
    if (named.has(e.key)) {
      e.preventDefault();
      input({t: "key", k: e.key});
    } else if ([...e.key].length === 1) {
      e.preventDefault();
      input({t: "text", s: e.key});
    }
  });

  if (strip) {
    strip.addEventListener("click", e => {
      const b = e.target.closest("button[data-control]");
      if (!b) return;
      input({t: "control", n: Number(b.dataset.control)});
      b.blur();
      canvas.focus();
    });
    new ResizeObserver(fit).observe(strip);
  }
  connect();
})();
