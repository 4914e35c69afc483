/*
 * The task pane: request -> candidates with previews -> Apply.
 *
 * Inside Excel (Office.js loaded from the CDN) it reads the selected range and its header,
 * and Apply adds a native conditional format through the generic applier (applier.js).
 * In a plain browser it works offline on a built-in sample sheet, and Apply colours that grid.
 * With "Show denoising" on, candidates arrive over Server-Sent Events so the pane can show the
 * code emerging from noise step by step.
 */
(function () {
  "use strict";

  var OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js";
  var MAX_STREAM_QUERY = 200000;   // longer tables go by POST (no animation): the server takes 1 MB URLs
  var MAX_GRID_ROWS = 12;          // rows of the selection shown in the pane
  var MAX_MINI_ROWS = 10;          // rows in each candidate's preview
  var MAX_SELECTION_CELLS = 20000; // the service's default CF_MAX_TABLE_CELLS
  var FRAME_MS = 45;               // slowest frame rate of the animation, so fast models still show it

  var SAMPLE = {
    sheet: "Sample",
    address: "Sample!A1:D10",
    values: [
      ["Region", "Rep", "Sales", "Status"],
      ["North", "Ava", 420, "Open"],
      ["South", "Ben", 980, "Closed"],
      ["East", "Chloe", 310, "Open"],
      ["West", "Dan", 1250, "In Progress"],
      ["North", "Eve", 760, "Closed"],
      ["South", "Finn", 95, "Open"],
      ["East", "Gia", 540, "Closed"],
      ["West", "Hugo", 1830, "In Progress"],
      ["North", "Ivy", 480, "Open"]
    ]
  };

  var state = {
    inExcel: false,
    values: SAMPLE.values,
    address: SAMPLE.address,
    sheet: SAMPLE.sheet,
    applied: [],             // sample mode: formats applied to the grid, in order
    stream: null,
    busy: false
  };

  var $ = function (id) { return document.getElementById(id); };

  // ------------------------------------------------------------------ addresses and cells

  function columnLetters(index) {          // 1 -> A, 27 -> AA
    var letters = "";
    while (index > 0) {
      var rem = (index - 1) % 26;
      letters = String.fromCharCode(65 + rem) + letters;
      index = Math.floor((index - 1) / 26);
    }
    return letters;
  }

  function columnIndex(letters) {
    var n = 0;
    for (var i = 0; i < letters.length; i++) n = n * 26 + (letters.charCodeAt(i) - 64);
    return n;
  }

  function topLeft(address) {              // "Sheet1!$C$5:$F$20" -> {row: 5, col: 3}
    var range = CfApplier.splitAddress(address).range.replace(/\$/g, "");
    var m = /^([A-Z]{1,3})(\d+)/i.exec(range);
    if (!m) return { row: 1, col: 1 };
    return { row: parseInt(m[2], 10), col: columnIndex(m[1].toUpperCase()) };
  }

  function isNumber(v) { return typeof v === "number" && isFinite(v); }

  function display(v) {
    if (v === null || v === undefined) return "";
    if (isNumber(v)) return Math.abs(v) >= 1e6 || Number.isInteger(v) ? String(v) : String(+v.toFixed(4));
    if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
    return String(v);
  }

  // ------------------------------------------------------------------ formats

  /* The look of a payload's format (fill/font) as CSS, for previews and the sample grid. */
  function formatLook(payload) {
    var settings = payload && payload[payload.property];
    var format = settings && settings.format;
    if (!format) return null;
    var look = {};
    if (format.fill && format.fill.color) look.background = format.fill.color;
    if (format.font) {
      if (format.font.color) look.color = format.font.color;
      if (format.font.bold) look.fontWeight = "700";
      if (format.font.italic) look.fontStyle = "italic";
      var lines = [];
      if (format.font.underline && format.font.underline !== "None") lines.push("underline");
      if (format.font.strikethrough) lines.push("line-through");
      if (lines.length) look.textDecoration = lines.join(" ");
    }
    if (format.borders && format.borders.top && format.borders.top.color) {
      look.boxShadow = "inset 0 0 0 2px " + format.borders.top.color;
    }
    return look;
  }

  var ICONS = {
    Arrows: [["▼", "#c0504d"], ["▶", "#e9b53f"], ["▲", "#4f9a5f"]],
    TrafficLights: [["●", "#d9534f"], ["●", "#f0ad4e"], ["●", "#4f9a5f"]],
    Flags: [["⚑", "#d9534f"], ["⚑", "#f0ad4e"], ["⚑", "#4f9a5f"]],
    Symbols: [["✖", "#d9534f"], ["!", "#f0ad4e"], ["✔", "#4f9a5f"]],
    Rating: [["◔", "#5a8ac6"], ["◑", "#5a8ac6"], ["●", "#5a8ac6"]]
  };

  function icon(name, index) {
    var count = parseInt(name, 10) || 3;
    var family = Object.keys(ICONS).filter(function (k) { return name.indexOf(k) >= 0; })[0];
    var glyphs = ICONS[family || "TrafficLights"];
    var position = count <= 1 ? 0 : Math.round((index / (count - 1)) * (glyphs.length - 1));
    return glyphs[Math.max(0, Math.min(glyphs.length - 1, position))];
  }

  /* Map of A1 address -> look for one candidate/payload on the grid. */
  function cellLooks(preview, payload) {
    var looks = {};
    if (!preview) return looks;
    var base = formatLook(payload);
    preview.cells.forEach(function (addr) {
      var visual = preview.visual && preview.visual[addr];
      if (visual) looks[addr] = { visual: visual };
      else if (base) looks[addr] = { css: base };
    });
    Object.keys(preview.visual || {}).forEach(function (addr) {
      if (!looks[addr]) looks[addr] = { visual: preview.visual[addr] };
    });
    return looks;
  }

  // ------------------------------------------------------------------ the grid

  function renderGrid(values, address, looks, maxRows, mini) {
    var origin = topLeft(address);
    var table = document.createElement("table");
    table.className = "grid" + (mini ? " mini" : "");
    var width = values.reduce(function (w, r) { return Math.max(w, r.length); }, 0);
    var head = table.createTHead().insertRow();
    head.appendChild(document.createElement("th"));
    for (var c = 0; c < width; c++) {
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = columnLetters(origin.col + c);
      head.appendChild(th);
    }
    var body = table.createTBody();
    var shown = Math.min(values.length, maxRows + 1);
    for (var r = 0; r < shown; r++) {
      var tr = body.insertRow();
      if (r === 0) tr.className = "header";
      var rowHead = document.createElement("th");
      rowHead.className = "rownum";
      rowHead.scope = "row";
      rowHead.textContent = origin.row + r;
      tr.appendChild(rowHead);
      for (c = 0; c < width; c++) {
        var value = values[r][c];
        var td = tr.insertCell();
        var addr = columnLetters(origin.col + c) + (origin.row + r);
        td.dataset.address = addr;
        if (isNumber(value) && r > 0) td.className = "num";
        var span = document.createElement("span");
        span.className = "val";
        span.textContent = display(value);
        var look = looks && looks[addr];
        if (look) {
          td.classList.add("formatted");
          if (look.css) Object.assign(td.style, look.css);
          var v = look.visual;
          if (v && v.bar !== undefined) {
            var bar = document.createElement("span");
            bar.className = "bar";
            bar.style.width = (10 + 80 * v.bar) + "%";
            bar.style.background = "linear-gradient(90deg, " + (v.color || "#638EC6") + ", rgba(255,255,255,0.4))";
            td.appendChild(bar);
          } else if (v && v.icon) {
            var glyph = icon(v.icon, v.index);
            var i = document.createElement("span");
            i.className = "icon";
            i.textContent = glyph[0];
            i.style.color = glyph[1];
            i.setAttribute("aria-label", v.icon + " " + (v.index + 1));
            span.insertBefore(i, span.firstChild);
          } else if (v && v.color) {
            td.style.background = v.color;
          }
        }
        td.appendChild(span);
      }
    }
    var wrap = document.createDocumentFragment();
    wrap.appendChild(table);
    if (values.length > shown) {
      var more = document.createElement("p");
      more.className = "more";
      more.textContent = (values.length - shown) + " more row" + (values.length - shown === 1 ? "" : "s") + " not shown";
      wrap.appendChild(more);
    }
    return wrap;
  }

  function renderSheet() {
    var looks = {};
    state.applied.forEach(function (entry) { Object.assign(looks, cellLooks(entry.preview, entry.office)); });
    var holder = $("sheet");
    holder.textContent = "";
    $("address").textContent = state.address;
    if (!state.values.length) {
      holder.textContent = "Select a range with a header row in the sheet.";
      return;
    }
    holder.appendChild(renderGrid(state.values, state.address, looks, MAX_GRID_ROWS, false));
    $("address").textContent = state.address;
    $("clear").hidden = state.inExcel || !state.applied.length;
  }

  // ------------------------------------------------------------------ Excel

  function insideOffice() {
    var query = window.location.search;
    if (/[?&]office=0\b/.test(query)) return false;
    if (/[?&](office=1|_host_Info=)/i.test(query)) return true;
    try {
      if (window.sessionStorage && window.sessionStorage.getItem("hostInfoValue")) return true;
    } catch (e) { /* storage blocked: not decisive */ }
    return false;
  }

  function loadOffice() {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = OFFICE_JS;
      script.onload = function () { Office.onReady(resolve); };
      script.onerror = function () { reject(new Error("Office.js could not be loaded")); };
      document.head.appendChild(script);
    });
  }

  /* Read the selected range (values and address) into the pane. A huge selection (a whole
     column, say) is not read at all: the pane asks for a smaller one instead. */
  function readSelection() {
    return Excel.run(function (context) {
      var range = context.workbook.getSelectedRange();
      range.load("address,rowCount,columnCount");
      return context.sync().then(function () {
        if (range.rowCount * range.columnCount > MAX_SELECTION_CELLS) {
          state.values = [];
          state.address = range.address;
          renderSheet();
          showError({ message: "The selection " + range.address + " has " + range.rowCount * range.columnCount +
                      " cells; the pane reads at most " + MAX_SELECTION_CELLS + ".",
                      hint: "Select the table itself, header row first (e.g. A1:D200)." });
          return;
        }
        range.load("values");
        return context.sync().then(function () {
          showError(null);
          state.values = range.values;
          state.address = range.address;
          state.sheet = CfApplier.splitAddress(range.address).sheet;
          renderSheet();
        });
      });
    });
  }

  // ------------------------------------------------------------------ service calls

  function showError(error) {
    var box = $("error");
    box.textContent = "";
    if (!error) { box.hidden = true; return; }
    var title = document.createElement("strong");
    title.textContent = error.message || String(error);
    box.appendChild(title);
    if (error.hint) {
      var hint = document.createElement("span");
      hint.className = "hint";
      hint.textContent = error.hint;
      box.appendChild(hint);
    }
    box.hidden = false;
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var err = (data && data.error) || { message: "The service answered " + response.status + "." };
          throw err;
        }
        return data;
      });
    });
  }

  function checkHealth() {
    var badge = $("health");
    fetch("/healthz", { cache: "no-store" }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      var cf = res.body.models && res.body.models.cf;
      if (res.ok || (cf && cf.status === "loaded")) {
        badge.textContent = "model ready";
        badge.className = "health ready";
      } else if (cf && cf.status === "failed") {
        badge.textContent = "model unavailable";
        badge.className = "health down";
        badge.title = cf.error || "";
      } else {
        badge.textContent = "model loading…";
        badge.className = "health waiting";
        setTimeout(checkHealth, 3000);
      }
    }).catch(function () {
      badge.textContent = "service offline";
      badge.className = "health down";
      setTimeout(checkHealth, 5000);
    });
  }

  function requestBody() {
    return {
      request: $("request").value.trim(),
      k: parseInt($("k").value, 10),
      table: state.values,
      address: state.address
    };
  }

  function setBusy(busy) {
    state.busy = busy;
    var button = $("generate");
    button.disabled = busy;
    button.textContent = busy ? "Generating…" : "Generate";
    $("ask").setAttribute("aria-busy", busy ? "true" : "false");
  }

  function generate() {
    var body = requestBody();
    if (!body.request) {
      showError({ message: "Describe the formatting first.", hint: "For example: highlight sales under 500 in red." });
      $("request").focus();
      return;
    }
    if (!body.table.length) {
      showError({ message: "Select the table first.", hint: "Select the cells to format, header row first." });
      return;
    }
    showError(null);
    if (state.stream) state.stream.close();
    setBusy(true);
    $("results-section").hidden = true;
    var params = new URLSearchParams({ request: body.request, k: String(body.k), address: body.address,
                                       table: JSON.stringify(body.table) });
    var animate = $("animate").checked && window.EventSource && params.toString().length < MAX_STREAM_QUERY;
    var done = animate ? streamGenerate(params, body) : postGenerate(body);
    done.then(showResults, function (err) {
      $("denoise").hidden = true;
      showError(err);
    }).then(function () { setBusy(false); });
  }

  function postGenerate(body) {
    $("denoise").hidden = true;
    return postJSON("/v1/cf/generate", body);
  }

  /* Denoising over Server-Sent Events; resolves with the final result event's body. Frames are
     queued and drawn at most every FRAME_MS so a fast model still shows its steps. */
  function streamGenerate(params, body) {
    return new Promise(function (resolve, reject) {
      var source = new EventSource("/v1/cf/stream?" + params.toString());
      state.stream = source;
      var queue = [], previous = [], previousStep = -1, firstT = null, drawing = null, finished = null, started = false,
        restarted = false;
      var panel = $("denoise"), list = $("noise");
      list.textContent = "";
      list.classList.remove("done");
      $("progress-bar").style.width = "0";
      $("step").textContent = "";
      panel.hidden = false;

      function draw() {
        var frame = queue.shift();
        if (!frame) {
          drawing = null;
          if (finished) finished();
          return;
        }
        var at = frame.t !== undefined && frame.t !== null ? " · t=" + frame.t : "";
        if (frame.restart) {
          /* the draws noised back to t and denoised again: the bar stays, the label says what happened */
          $("step").textContent = "restart" + at;
        } else {
          if (firstT === null) firstT = frame.t || 1;
          var fraction = firstT ? 1 - (frame.t || 0) / firstT : 0;
          $("progress-bar").style.width = Math.round(100 * Math.max(0.02, fraction)) + "%";
          $("step").textContent = "step " + (frame.step + 1) + at;
          previousStep = frame.step;
        }
        restarted = Boolean(frame.restart);
        renderNoise(list, frame.codes, previous);
        previous = frame.codes;
        drawing = setTimeout(draw, FRAME_MS);
      }

      source.addEventListener("start", function () { started = true; });
      source.addEventListener("step", function (e) {
        queue.push(JSON.parse(e.data));
        if (!drawing) draw();
      });
      source.addEventListener("result", function (e) {
        source.close();
        var result = JSON.parse(e.data);
        var finish = function () {
          $("progress-bar").style.width = "100%";
          $("step").textContent = "done · " + (previousStep + 1) + (previousStep ? " steps" : " step") +
            (restarted ? " + restart" : "");
          list.classList.add("done");
          resolve(result);
        };
        if (drawing || queue.length) finished = finish; else finish();
      });
      source.addEventListener("error", function (e) {
        source.close();
        if (e.data) {                                  // an `error` event from the service
          reject(JSON.parse(e.data).error);
        } else if (!started) {                         // refused before streaming: ask again by POST for the reason
          postGenerate(body).then(resolve, reject);
        } else {
          reject({ message: "The connection to the service was lost.", hint: "Generate again." });
        }
      });
    });
  }

  /* One line per candidate; characters that changed since the previous step are highlighted. */
  function renderNoise(list, codes, previous) {
    list.textContent = "";
    codes.forEach(function (code, i) {
      var li = document.createElement("li");
      var before = previous[i] || "";
      var run = "", fresh = false;
      function flush() {
        if (!run) return;
        if (fresh) {
          var mark = document.createElement("span");
          mark.className = "fresh";
          mark.textContent = run;
          li.appendChild(mark);
        } else {
          li.appendChild(document.createTextNode(run));
        }
        run = "";
      }
      for (var j = 0; j < code.length; j++) {
        var changed = before.charAt(j) !== code.charAt(j);
        if (changed !== fresh) { flush(); fresh = changed; }
        run += code.charAt(j);
      }
      flush();
      list.appendChild(li);
    });
  }

  // ------------------------------------------------------------------ results

  function showResults(result) {
    var list = $("results");
    list.textContent = "";
    var candidates = result.candidates || [];
    var status = $("status");
    if (!candidates.length) {
      status.textContent = "No valid rule came out for this request. Try rephrasing it, or name the column.";
    } else {
      status.textContent = candidates.length + " rule" + (candidates.length === 1 ? "" : "s") + " for " +
        (result.range || state.address) + ", best first.";
    }
    var dropped = (result.rejected || []).length;
    if (dropped) status.textContent += " " + dropped + " invalid code" + (dropped === 1 ? " was" : "s were") + " dropped.";
    candidates.forEach(function (candidate, index) { list.appendChild(renderCandidate(candidate, index)); });
    $("results-section").hidden = false;
  }

  function renderCandidate(candidate, index) {
    var li = document.createElement("li");
    if (index === 0) li.className = "best";
    li.dataset.rule = candidate.rule;

    var head = document.createElement("div");
    head.className = "cand-head";
    var rank = document.createElement("span");
    rank.className = "rank";
    rank.textContent = index === 0 ? "best" : "#" + (index + 1);
    var code = document.createElement("code");
    code.className = "rule";
    code.textContent = candidate.rule;
    var apply = document.createElement("button");
    apply.type = "button";
    apply.className = "secondary apply";
    apply.textContent = "Apply";
    apply.setAttribute("aria-label", "Apply " + candidate.rule);
    apply.addEventListener("click", function () { applyCandidate(candidate, apply); });
    head.appendChild(rank);
    head.appendChild(code);
    head.appendChild(apply);
    li.appendChild(head);

    var explanation = document.createElement("p");
    explanation.className = "explanation";
    explanation.textContent = candidate.explanation;
    li.appendChild(explanation);
    if (candidate.sibling) {
      // not written by the model: another reading of one of its rules, shown so the list is full
      var other = document.createElement("p");
      other.className = "sibling";
      other.textContent = "Another reading of the rules above";
      li.appendChild(other);
    }

    var meta = document.createElement("div");
    meta.className = "meta";
    if (candidate.preview) {
      var count = document.createElement("span");
      count.textContent = candidate.preview.count + " cell" + (candidate.preview.count === 1 ? "" : "s") + " formatted";
      meta.appendChild(count);
    }
    var type = document.createElement("span");
    type.textContent = "Excel: " + candidate.excel_type;
    meta.appendChild(type);
    var look = formatLook(candidate.office);
    if (look) {
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.textContent = "Abc";
      Object.assign(swatch.style, look);
      swatch.title = "The format matching cells get";
      meta.appendChild(swatch);
    }
    li.appendChild(meta);

    if (candidate.preview) {
      var grid = document.createElement("div");
      grid.className = "grid-wrap preview";
      grid.appendChild(renderGrid(state.values, state.address, cellLooks(candidate.preview, candidate.office),
                                  MAX_MINI_ROWS, true));
      li.appendChild(grid);
    }
    if (candidate.equivalent && candidate.equivalent.length) {
      var eq = document.createElement("p");
      eq.className = "equivalent";
      eq.appendChild(document.createTextNode("Same cells as: "));
      candidate.equivalent.forEach(function (rule, i) {
        if (i) eq.appendChild(document.createTextNode(", "));
        var c = document.createElement("code");
        c.textContent = rule;
        eq.appendChild(c);
      });
      li.appendChild(eq);
    }
    return li;
  }

  function applyCandidate(candidate, button) {
    showError(null);
    var done = function () {
      button.textContent = "Applied";
      button.classList.add("done");
      $("status").textContent = "Applied " + candidate.rule + " to " + candidate.office.address + ".";
    };
    if (state.inExcel) {
      button.disabled = true;
      CfApplier.applyInExcel(Excel, candidate.office, state.sheet).then(done, function (err) {
        showError({ message: "Excel refused the rule: " + (err.message || err), hint: "Check the sheet is not protected." });
      }).then(function () { button.disabled = false; });
      return;
    }
    state.applied.push({ preview: candidate.preview, office: candidate.office });
    renderSheet();
    done();
  }

  // ------------------------------------------------------------------ start

  function bind() {
    $("ask").addEventListener("submit", function (e) { e.preventDefault(); if (!state.busy) generate(); });
    $("request").addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (!state.busy) generate(); }
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-example]"), function (chip) {
      chip.addEventListener("click", function () {
        $("request").value = chip.dataset.example;
        $("request").focus();
      });
    });
    $("clear").addEventListener("click", function () { state.applied = []; renderSheet(); });
  }

  function startSample() {
    state.inExcel = false;
    $("mode").textContent = "Sample sheet · open in Excel to format your data";
    renderSheet();
  }

  function start() {
    bind();
    checkHealth();
    if (!insideOffice()) { startSample(); return; }
    $("mode").textContent = "Connecting to Excel…";
    loadOffice().then(function (info) {
      if (!info || info.host !== Office.HostType.Excel) { startSample(); return; }
      state.inExcel = true;
      $("mode").textContent = "Excel · select a range with its header row";
      $("sheet-title").textContent = "Selection";
      Office.context.document.addHandlerAsync(Office.EventType.DocumentSelectionChanged, function () {
        readSelection().catch(function (err) { showError({ message: String(err.message || err) }); });
      });
      return readSelection();
    }).catch(function (err) {
      startSample();
      showError({ message: err.message || String(err), hint: "Working on the sample sheet instead." });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
