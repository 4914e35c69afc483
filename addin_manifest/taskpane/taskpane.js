/*
 * The task pane: request -> candidates with what each will paint and a preview -> Apply.
 *
 * Inside Excel (Office.js loaded from the CDN) it reads the selected range and its header,
 * and Apply adds a native conditional format through the generic applier (applier.js).
 * In a plain browser it works offline on a built-in sample sheet (sheet.js), and Apply colours that grid.
 * With "Show denoising" on, candidates arrive over Server-Sent Events (denoise.js): the answer is
 * listed as soon as it exists, beside the model's denoising of it, step by step.
 * The Bash / Python tab is codetab.js.
 */
(function () {
  "use strict";

  var OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js";
  var MAX_STREAM_QUERY = 200000;   // longer tables go by POST (no animation): the server takes 1 MB URLs
  var MAX_GRID_ROWS = 12;          // rows of the selection shown in the pane
  var MAX_MINI_ROWS = 8;           // rows in each candidate's preview
  var MAX_SELECTION_CELLS = 20000; // the service's default CF_MAX_TABLE_CELLS
  var S = window.CfSheet;

  var state = {
    inExcel: false,
    values: S.SAMPLE.values,
    address: S.SAMPLE.address,
    sheet: S.SAMPLE.sheet,
    applied: [],             // sample mode: formats applied to the grid, in order
    stream: null,
    busy: false,
    shown: null              // the result body whose candidates are listed
  };

  var $ = function (id) { return document.getElementById(id); };

  // ------------------------------------------------------------------ the selection

  function renderSheet() {
    var looks = {};
    state.applied.forEach(function (entry) { Object.assign(looks, S.cellLooks(entry.preview, entry.office)); });
    var holder = $("sheet");
    holder.textContent = "";
    $("address").textContent = state.address;
    if (!state.values.length) {
      holder.textContent = "Select a range with a header row in the sheet.";
      return;
    }
    holder.appendChild(S.renderGrid(state.values, state.address, looks, MAX_GRID_ROWS, false));
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
          showError($("error"), { message: "The selection " + range.address + " has " +
                      range.rowCount * range.columnCount + " cells; the pane reads at most " + MAX_SELECTION_CELLS + ".",
                      hint: "Select the table itself, header row first (e.g. A1:D200)." });
          return;
        }
        range.load("values");
        return context.sync().then(function () {
          showError($("error"), null);
          state.values = range.values;
          state.address = range.address;
          state.sheet = S.splitAddress(range.address).sheet;
          renderSheet();
        });
      });
    });
  }

  // ------------------------------------------------------------------ service calls

  function showError(box, error) {
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
        if (!response.ok) throw (data && data.error) || { message: "The service answered " + response.status + "." };
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
      window.CfCodeTab.health(res.body.models || {});
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

  function setBusy(busy) {
    state.busy = busy;
    var button = $("generate");
    button.disabled = busy;
    button.textContent = busy ? "Generating…" : "Generate";
    $("ask").setAttribute("aria-busy", busy ? "true" : "false");
  }

  function generate() {
    var body = { request: $("request").value.trim(), k: parseInt($("k").value, 10), table: state.values,
                 address: state.address };
    var box = $("error");
    if (!body.request) {
      showError(box, { message: "Describe the formatting first.", hint: "For example: highlight sales under 500 in red." });
      $("request").focus();
      return;
    }
    if (!body.table.length) {
      showError(box, { message: "Select the table first.", hint: "Select the cells to format, header row first." });
      return;
    }
    showError(box, null);
    if (state.stream) state.stream.close();
    setBusy(true);
    state.shown = null;
    $("results-section").hidden = true;
    var params = new URLSearchParams({ request: body.request, k: String(body.k), address: body.address,
                                       table: JSON.stringify(body.table) });
    var post = function () { $("denoise").hidden = true; return postJSON("/v1/cf/generate", body); };
    var animate = $("animate").checked && window.EventSource && params.toString().length < MAX_STREAM_QUERY;
    var done = animate ? window.CfDenoise.run("/v1/cf/stream?" + params.toString(),
      { panel: $("denoise"), list: $("noise"), step: $("step"), bar: $("progress-bar") },
      { opened: function (source) { state.stream = source; }, onAnswer: showResults, fallback: post }) : post();
    done.then(function (result) {
      if (state.shown !== result) showResults(result);
      $("status").textContent = $("status").textContent.replace(" The denoising view is still running.", "");
    }, function (err) {
      $("denoise").hidden = true;
      showError(box, err);
    }).then(function () { setBusy(false); });
  }

  // ------------------------------------------------------------------ results

  function showResults(result) {
    if (state.shown && JSON.stringify(state.shown) === JSON.stringify(result)) { state.shown = result; return; }
    state.shown = result;
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
    if (state.busy && !$("denoise").hidden) status.textContent += " The denoising view is still running.";
    candidates.forEach(function (candidate, index) { list.appendChild(renderCandidate(candidate, index)); });
    $("results-section").hidden = false;
  }

  /* The readings of a candidate, its own first: each says what Apply paints (target, range, the tested
     or painted column), with its preview, Office.js payload and Excel type. Without the service's
     `paint` field the one reading is what the payload's address covers. */
  function readings(candidate) {
    var own = { paint: candidate.paint || inferPaint(candidate), preview: candidate.preview, office: candidate.office,
                excel_type: candidate.excel_type };
    var list = [own];
    var alt = candidate.paint && candidate.paint.alternative;
    if (alt && alt.office) {
      list.push({ paint: alt, preview: alt.preview || null, office: alt.office,
                  excel_type: alt.excel_type || (alt.office && alt.office.type) || candidate.excel_type });
    }
    return list;
  }

  function inferPaint(candidate) {
    var range = candidate.office && candidate.office.address;
    var box = range && S.parseRange(range), sel = S.parseRange(state.address);
    if (!box || !sel) return { target: "cells", range: range || "", column: null };
    if (box.left === box.right && sel.left !== sel.right) {
      return { target: "cells", range: range, column: box.left - sel.left };
    }
    var rowRule = /^=|c\[\d+\]/.test(candidate.rule || "");
    return { target: rowRule ? "rows" : (sel.left === sel.right ? "cells" : "all"), range: range,
             column: sel.left === sel.right ? 0 : null };
  }

  function header(column) {
    var name = state.values.length && column !== null && column !== undefined ? state.values[0][column] : null;
    return name === null || name === undefined || name === "" ? null : S.display(name);
  }

  function paintLabel(paint) {
    var name = paint.column_name !== undefined && paint.column_name !== null ? S.display(paint.column_name)
      : header(paint.column);
    if (paint.target === "rows") return { short: "Whole rows", long: "Whole rows of the selection" };
    if (paint.target === "all") return { short: "Every cell", long: "Every cell of the selection" };
    var what = name ? name + " cells" : "Cells";
    return { short: what, long: paint.target === "column" ? what + " (another column than the one tested)" : what };
  }

  function renderCandidate(candidate, index) {
    var li = document.createElement("li");
    if (index === 0) li.className = "best";
    li.dataset.rule = candidate.rule;
    var options = readings(candidate), chosen = 0;

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

    var paintRow = document.createElement("div");
    paintRow.className = "paint";
    li.appendChild(paintRow);
    var meta = document.createElement("div");
    meta.className = "meta";
    li.appendChild(meta);
    var grid = document.createElement("div");
    grid.className = "grid-wrap preview";
    li.appendChild(grid);

    function show() {
      var reading = options[chosen];
      li.dataset.paint = reading.paint.target;
      li.dataset.range = reading.paint.range || "";
      paintRow.textContent = "";
      var label = document.createElement("span");
      label.className = "paint-label";
      label.textContent = "Apply paints: ";
      paintRow.appendChild(label);
      if (options.length > 1) {
        var group = document.createElement("span");
        group.className = "switch";
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", "What Apply paints for " + candidate.rule);
        options.forEach(function (option, i) {
          var b = document.createElement("button");
          b.type = "button";
          b.className = "reading";
          b.dataset.target = option.paint.target;
          b.textContent = paintLabel(option.paint).short;
          b.setAttribute("aria-pressed", i === chosen ? "true" : "false");
          b.addEventListener("click", function () {
            if (chosen === i) return;
            chosen = i;
            show();
            li.querySelector("button.reading[aria-pressed=true]").focus();
          });
          group.appendChild(b);
        });
        paintRow.appendChild(group);
      } else {
        var what = document.createElement("strong");
        what.textContent = paintLabel(reading.paint).long;
        paintRow.appendChild(what);
      }
      var where = document.createElement("code");
      where.className = "range";
      where.textContent = reading.paint.range || (reading.office && reading.office.address) || "";
      paintRow.appendChild(where);

      meta.textContent = "";
      if (reading.preview) {
        var count = document.createElement("span");
        count.className = "count";
        count.textContent = reading.preview.count + " cell" + (reading.preview.count === 1 ? "" : "s") + " formatted";
        meta.appendChild(count);
      }
      var type = document.createElement("span");
      type.className = "excel-type";
      type.textContent = "Excel rule: " + reading.excel_type;
      meta.appendChild(type);
      var look = S.formatLook(reading.office);
      if (look) {
        var swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.textContent = "Abc";
        Object.assign(swatch.style, look);
        swatch.title = "The format matching cells get";
        meta.appendChild(swatch);
      }
      grid.textContent = "";
      grid.hidden = !reading.preview;
      if (reading.preview) {
        grid.appendChild(S.renderGrid(state.values, state.address, S.cellLooks(reading.preview, reading.office),
                                      MAX_MINI_ROWS, true, reading.paint.range));
      }
      apply.setAttribute("aria-label", "Apply " + candidate.rule + " to " + paintLabel(reading.paint).short +
                         " " + (reading.paint.range || ""));
    }
    show();
    apply.addEventListener("click", function () { applyCandidate(candidate, options[chosen], apply); });

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

  function applyCandidate(candidate, reading, button) {
    var box = $("error");
    showError(box, null);
    var done = function () {
      button.textContent = "Applied";
      button.classList.add("done");
      $("status").textContent = "Applied " + candidate.rule + " to " + reading.office.address + ".";
    };
    if (state.inExcel) {
      button.disabled = true;
      CfApplier.applyInExcel(Excel, reading.office, state.sheet).then(done, function (err) {
        showError(box, { message: "Excel refused the rule: " + (err.message || err), hint: "Check the sheet is not protected." });
      }).then(function () { button.disabled = false; });
      return;
    }
    state.applied.push({ preview: reading.preview, office: reading.office });
    renderSheet();
    $("sheet").scrollIntoView({ block: "nearest" });
    done();
  }

  // ------------------------------------------------------------------ tabs and start

  /* ARIA tabs: click, or the arrow keys / Home / End on the focused tab. */
  function bindTabs() {
    var tabs = Array.prototype.slice.call(document.querySelectorAll("[role=tab]"));
    function select(tab) {
      tabs.forEach(function (t) {
        var on = t === tab;
        t.setAttribute("aria-selected", on ? "true" : "false");
        t.tabIndex = on ? 0 : -1;
        $(t.getAttribute("aria-controls")).hidden = !on;
      });
      tab.focus();
    }
    tabs.forEach(function (tab, i) {
      tab.addEventListener("click", function () { select(tab); });
      tab.addEventListener("keydown", function (e) {
        var to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
        if (to === undefined) return;
        e.preventDefault();
        select(tabs[(to + tabs.length) % tabs.length]);
      });
    });
  }

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
    bindTabs();
    window.CfCodeTab.init({ postJSON: postJSON, showError: showError });
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
      Office.context.document.addHandlerAsync(Office.EventType.DocumentSelectionChanged, function () {
        readSelection().catch(function (err) { showError($("error"), { message: String(err.message || err) }); });
      });
      return readSelection();
    }).catch(function (err) {
      startSample();
      showError($("error"), { message: err.message || String(err), hint: "Working on the sample sheet instead." });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
