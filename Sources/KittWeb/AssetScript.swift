/// The UI's only script: local times, API forms and buttons (with the CSRF header), copy
/// buttons, the campaign wizard's run count, the quick test format check and live updates
/// over the SSE stream. No inline script anywhere (the CSP forbids it), no third-party code.
enum AssetScript {
    static let source = #"""
"use strict";
(function () {
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d.getTime())) return;
      t.title = t.getAttribute("datetime");
      // On a phone: no seconds, and no year when it is this year (the full time is the title).
      var narrow = window.matchMedia && matchMedia("(max-width: 600px)").matches;
      var options = narrow ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }
        : { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" };
      if (narrow && d.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
      t.textContent = d.toLocaleString(undefined, options);
    });
  }

  // On a phone the nav is one strip that scrolls sideways: show the current page in it, and
  // fade its end while more links lie beyond.
  function navStrip() {
    var links = document.querySelector(".nav-links");
    if (!links) return;
    var current = links.querySelector("[aria-current=page]");
    var center = function () {
      if (current && links.scrollWidth > links.clientWidth) {
        links.scrollLeft = current.offsetLeft - (links.clientWidth - current.offsetWidth) / 2;
      }
    };
    var fade = function () {
      links.classList.toggle("more", links.scrollLeft + links.clientWidth < links.scrollWidth - 2);
    };
    links.addEventListener("scroll", fade, { passive: true });
    window.addEventListener("resize", function () { center(); fade(); });
    center();
    fade();
  }

  // "running for 1m 05s" on work the server started at a known time (model downloads).
  function elapsed() {
    document.querySelectorAll("[data-elapsed-since]").forEach(function (el) {
      var since = new Date(el.getAttribute("data-elapsed-since")).getTime();
      if (isNaN(since)) return;
      var s = Math.max(0, Math.round((Date.now() - since) / 1000));
      var m = Math.floor(s / 60);
      el.textContent = "running for " + (m ? m + "m " + String(s % 60).padStart(2, "0") + "s" : s + "s");
    });
  }

  function send(method, path, body) {
    // Always JSON, body or not: with auth off the server refuses other writes (no cross-site forms).
    var opts = { method: method, headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
      credentials: "same-origin" };
    if (body !== undefined) opts.body = JSON.stringify(body);
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { ok: r.ok, status: r.status, data: data };
      });
    });
  }

  function setPath(obj, path, value) {
    var keys = path.split(".");
    var o = obj;
    for (var i = 0; i < keys.length - 1; i++) {
      if (typeof o[keys[i]] !== "object" || o[keys[i]] === null) o[keys[i]] = {};
      o = o[keys[i]];
    }
    o[keys[keys.length - 1]] = value;
  }

  function lines(text) {
    return text.split("\n").map(function (s) { return s.trim(); }).filter(function (s) { return s.length > 0; });
  }

  // Builds the JSON body from named fields; data-shape says how (see Forms.swift).
  function formBody(form) {
    var body = {};
    var lists = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "button") return;
      if (el.dataset.local !== undefined) return;
      var shape = el.dataset.shape || "";
      var v;
      if (el.type === "checkbox") {
        if (shape === "bool") { setPath(body, el.name, el.checked); return; }
        if (!lists[el.name]) lists[el.name] = [];
        if (el.checked) lists[el.name].push(shape === "names" ? { name: el.value } : el.value);
        return;
      }
      if (shape === "names") v = lines(el.value).map(function (n) { return { name: n }; });
      else if (shape === "lines") v = lines(el.value);
      else if (shape === "tags") v = el.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
      else if (shape === "int") { if (el.value.trim() === "") return; v = Number(el.value); }
      else if (shape === "json") { if (el.value.trim() === "") return; v = JSON.parse(el.value); }
      else { if (el.value === "" && el.dataset.optional !== undefined) return; v = el.value; }
      setPath(body, el.name, v);
    });
    Object.keys(lists).forEach(function (k) { setPath(body, k, lists[k]); });
    if (form.dataset.unwrap) body = body[form.dataset.unwrap] || {};
    if (form.dataset.base) body = keepUnknown(JSON.parse(form.dataset.base), body);
    return body;
  }

  // Editing a stored document: keys the form does not know stay as they were, and list
  // items named like before keep their other fields (a model's path, an engine's profile).
  function keepUnknown(base, edited) {
    var out = {};
    Object.keys(base).forEach(function (k) { out[k] = base[k]; });
    Object.keys(edited).forEach(function (k) {
      var v = edited[k];
      if (Array.isArray(v) && Array.isArray(base[k])) {
        v = v.map(function (item) {
          if (!item || typeof item !== "object" || item.name === undefined) return item;
          var old = base[k].find(function (o) { return o && typeof o === "object" && o.name === item.name; });
          return old || item;
        });
      }
      out[k] = v;
    });
    return out;
  }

  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach(function (p) { p.textContent = ""; p.hidden = true; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    var fe = form.querySelector(".form-error");
    if (fe) { fe.textContent = ""; fe.hidden = true; }
  }

  // Puts the API's error text next to the field it names (the longest field name found in
  // the message), or at the top of the form when it names none.
  function showError(form, message) {
    var best = null, bestLen = 0;
    form.querySelectorAll(".field-error[data-error-for]").forEach(function (p) {
      var names = p.dataset.errorFor.split(" ");
      names.forEach(function (n) {
        if (n && message.indexOf(n) >= 0 && n.length > bestLen) { best = p; bestLen = n.length; }
      });
    });
    if (best) {
      best.textContent = message;
      best.hidden = false;
      var field = form.querySelector("#" + best.id.replace(/-error$/, ""));
      if (field) { field.setAttribute("aria-invalid", "true"); field.focus(); }
      return;
    }
    var fe = form.querySelector(".form-error");
    if (fe) { fe.textContent = message; fe.hidden = false; fe.focus(); }
  }

  function fill(template, data) {
    return template.replace(/\{(\w+)\}/g, function (_, k) {
      return data && data[k] !== undefined ? encodeURIComponent(data[k]) : "";
    });
  }

  function after(el, data) {
    var then = el.dataset.then;
    if (!then) return;
    if (then === "reload") location.reload();
    else location.assign(fill(then, data));
  }

  function status(form, text) {
    var s = form.querySelector(".form-status");
    if (s) s.textContent = text;
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.id === "devon-q") { ev.preventDefault(); devonSearch(); }
  });

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.dataset || !form.dataset.api) return;
    ev.preventDefault();
    var button = ev.submitter || form.querySelector("button[type=submit]");
    clearErrors(form);
    var body;
    try { body = formBody(form); } catch (e) { showError(form, "Not valid JSON: " + e.message); return; }
    var path = (button && button.dataset.api) || form.dataset.api;
    var method = (button && button.dataset.method) || form.dataset.method || "POST";
    var chain = button && button.dataset.chain;
    var thenEl = button && button.dataset.then ? button : form;
    if (button) button.disabled = true;
    status(form, "Saving…");
    send(method, path, body).then(function (r) {
      if (!r.ok) throw new Error((r.data && r.data.error) || ("HTTP " + r.status));
      if (!chain) return r.data;
      return send("POST", fill(chain, r.data), {}).then(function (r2) {
        if (!r2.ok) {
          location.assign(fill(thenEl.dataset.then, r.data));
          throw new Error((r2.data && r2.data.error) || ("HTTP " + r2.status));
        }
        return r.data;
      });
    }).then(function (data) {
      status(form, form.dataset.done || "Saved.");
      var shown = form.querySelector("[data-show-field]");
      if (shown && data) { shown.textContent = data[shown.dataset.showField] || ""; shown.hidden = false; }
      after(thenEl, data);
    }).catch(function (e) {
      status(form, "");
      showError(form, e.message);
    }).finally(function () { if (button) button.disabled = false; });
  });

  // An error goes away as soon as its field is changed.
  function clearFieldError(ev) {
    var el = ev.target;
    if (!el.form || !el.id) return;
    var p = document.getElementById(el.id + "-error");
    if (p) { p.textContent = ""; p.hidden = true; }
    el.removeAttribute("aria-invalid");
  }
  document.addEventListener("input", clearFieldError);
  document.addEventListener("change", clearFieldError);

  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("button[data-action]");
    if (b) {
      ev.preventDefault();
      if (b.dataset.confirm && !window.confirm(b.dataset.confirm)) return;
      var out = b.dataset.output ? document.getElementById(b.dataset.output) : null;
      b.disabled = true;
      var label = b.textContent;
      if (b.dataset.busy) b.textContent = b.dataset.busy;
      var body = b.dataset.method === "DELETE" ? undefined : (b.dataset.body ? JSON.parse(b.dataset.body) : {});
      send(b.dataset.method || "POST", b.dataset.action, body)
        .then(function (r) {
          b.disabled = false;
          b.textContent = label;
          if (!r.ok) {
            if (out) { out.textContent = (r.data && r.data.error) || ("HTTP " + r.status); out.hidden = false; }
            return;
          }
          if (out && b.dataset.showField) {
            out.textContent = (b.dataset.showPrefix || "") + r.data[b.dataset.showField];
            out.hidden = false;
            return;
          }
          after(b, r.data);
        });
      return;
    }
    var d = ev.target.closest && ev.target.closest("button[data-devon-search]");
    if (d) { devonSearch(); return; }
    var c = ev.target.closest && ev.target.closest("button[data-copy]");
    if (c) {
      var src = document.getElementById(c.dataset.copy);
      var text = src ? src.textContent : "";
      var done = function () { c.textContent = "Copied"; setTimeout(function () { c.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, done);
      else {
        var r = document.createRange(); r.selectNodeContents(src);
        var s = getSelection(); s.removeAllRanges(); s.addRange(r);
        try { document.execCommand("copy"); } catch (e) {}
        done();
      }
    }
  });

  // Quick test: Devon's search results join the model suggestions (their repo id is the model).
  function devonSearch() {
    var q = document.getElementById("devon-q").value.trim();
    var out = document.getElementById("devon-status");
    var list = document.getElementById("model-options");
    if (!q) { out.textContent = "Type a few words to search."; return; }
    out.textContent = "Searching…";
    fetch("/ui/api/v1/models/search?limit=20&q=" + encodeURIComponent(q), { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
      .then(function (r) {
        if (!r.ok) { out.textContent = (r.data && r.data.error) || "Search failed."; return; }
        list.querySelectorAll("option[data-devon]").forEach(function (o) { o.remove(); });
        (r.data.items || []).forEach(function (item) {
          var o = document.createElement("option");
          o.value = item.repo_id;
          o.textContent = item.name + " (Devon, " + item.size_gb + " GB)";
          o.dataset.devon = "";
          list.appendChild(o);
        });
        var n = (r.data.items || []).length;
        out.textContent = n + " found: pick one in the Model field.";
        document.getElementById("model_path").focus();
      }).catch(function () { out.textContent = "Search failed."; });
  }

  // Campaign wizard: models × engines × benchmarks, shown while choosing.
  function wizard(form) {
    var out = form.querySelector("[data-run-count]");
    if (!out) return;
    var update = function () {
      var models = lines(form.querySelector("[name='config.models']").value).length;
      var engines = form.querySelectorAll("[name='config.engines']:checked").length;
      var benches = form.querySelectorAll("[name='config.benchmarks']:checked").length;
      var n = models * engines * benches;
      out.textContent = models + " model" + (models === 1 ? "" : "s") + " × " + engines + " engine" +
        (engines === 1 ? "" : "s") + " × " + benches + " benchmark" + (benches === 1 ? "" : "s") + " = " +
        n + " run" + (n === 1 ? "" : "s");
    };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  // Quick test: which formats the model has and whether the engine takes them.
  function formatCheck(form) {
    var out = form.querySelector("[data-format-result]");
    var model = form.querySelector("[name=model_path]");
    var engine = form.querySelector("[name=engine_name]");
    if (!out || !model || !engine) return;
    var update = function () {
      var formats = [];
      var opt = Array.prototype.find.call(document.querySelectorAll("#model-options option"), function (o) {
        return o.value === model.value;
      });
      if (opt && opt.dataset.formats) formats = opt.dataset.formats.split(",").filter(Boolean);
      else if (/\.gguf$/i.test(model.value)) formats = ["gguf"];
      var eopt = engine.options[engine.selectedIndex];
      var takes = eopt && eopt.dataset.formats ? eopt.dataset.formats.split(",") : [];
      out.classList.remove("ok", "bad");
      if (!model.value) { out.textContent = "Choose a model to check its format."; return; }
      if (formats.length === 0) { out.textContent = "Format unknown: the server checks it when you start."; return; }
      var fits = formats.filter(function (f) { return takes.indexOf(f) >= 0; });
      if (fits.length > 0) {
        out.textContent = "✓ " + engine.value + " runs " + fits.join(", ") + ".";
        out.classList.add("ok");
      } else {
        out.textContent = "✗ " + engine.value + " does not run " + formats.join(", ") + " (it takes " +
          takes.join(", ") + "). The server will refuse this unless you tick Force.";
        out.classList.add("bad");
      }
    };
    model.addEventListener("input", update);
    engine.addEventListener("change", update);
    update();
  }

  // Live updates: matching events re-fetch this page and swap its live regions.
  var refreshing = false, again = false, timer = null;
  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(location.href, { credentials: "same-origin", cache: "no-store" }).then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-region]").forEach(function (old) {
          var fresh = doc.getElementById(old.id);
          if (fresh) { old.replaceWith(fresh); localTimes(fresh); }
        });
      }).catch(function () {}).finally(function () {
        refreshing = false;
        if (again) { again = false; schedule(); }
      });
  }
  function schedule() {
    if (timer) return;
    timer = setTimeout(function () { timer = null; refresh(); }, 30);
  }

  function appendLog(data) {
    var log = document.getElementById("log");
    var src = data.test_id || data.campaign_id;
    if (!log || log.dataset.source !== src) return false;
    var empty = log.querySelector(".log-empty");
    if (empty) empty.remove();
    var line = document.createElement("span");
    line.textContent = data.line + "\n";
    log.appendChild(line);
    while (log.childElementCount > 5000) log.removeChild(log.firstElementChild);
    log.scrollTop = log.scrollHeight;
    return true;
  }

  function live() {
    var types = (document.body.dataset.live || "").split(" ").filter(Boolean);
    var badge = document.getElementById("live-indicator");
    if (types.length === 0 || !window.EventSource) return;
    var es = new EventSource("/api/v1/events/stream");
    // A page left for another (even one kept in the back/forward cache) gives its stream
    // back: browsers allow only 6 connections per server, and a stream holds one for good.
    window.addEventListener("pagehide", function () { es.close(); }, { once: true });
    window.addEventListener("pageshow", function (ev) { if (ev.persisted) { live(); refresh(); } }, { once: true });
    es.onopen = function () { if (badge) { badge.textContent = "● live"; badge.classList.add("on"); } };
    es.onerror = function () { if (badge) { badge.textContent = "○ reconnecting"; badge.classList.remove("on"); } };
    types.forEach(function (type) {
      es.addEventListener(type, function (ev) {
        if (type === "log") {
          try { appendLog(JSON.parse(ev.data)); } catch (e) {}
          return;
        }
        schedule();
      });
    });
  }

  // "Add an agent": the one-liner follows the name and port typed in.
  function installForm() {
    var pre = document.getElementById("install-command");
    if (!pre) return;
    var name = document.querySelector("[data-install=name]");
    var port = document.querySelector("[data-install=port]");
    var enc = function (v) { return encodeURIComponent(v).replace(/'/g, "%27"); };
    var engine = document.querySelector("[data-install=engine]");
    var update = function () {
      pre.textContent = "curl -fsSL --cacert ca.pem '" + pre.dataset.server + "/api/v1/agent/install.sh?name=" +
        enc(name.value) + "&port=" + enc(port.value) + (engine.value ? "&engine_url=" + enc(engine.value) : "") +
        "' | bash";
    };
    [name, port, engine].forEach(function (el) { el.addEventListener("input", update); });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    var relabel = null;
    window.addEventListener("resize", function () {
      clearTimeout(relabel);
      relabel = setTimeout(function () { localTimes(document); }, 100);
    });
    navStrip();
    elapsed();
    if (document.querySelector("[data-elapsed-since]") || document.body.dataset.live) setInterval(elapsed, 1000);
    installForm();
    document.querySelectorAll("form[data-wizard]").forEach(wizard);
    document.querySelectorAll("form[data-format-check]").forEach(formatCheck);
    var log = document.getElementById("log");
    if (log) log.scrollTop = log.scrollHeight;
    live();
  });
})();
"""#
}
