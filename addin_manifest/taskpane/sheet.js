/*
 * The pane's picture of a sheet: A1 addresses, the look of an Office.js payload's format, and a grid
 * of cells with candidates' previews painted on it. Also the sample sheet the pane works on outside Excel.
 * Plain script (no modules): exposes window.CfSheet.
 */
(function (root) {
  "use strict";

  /* A sales tracker of the kind people format: text, numbers, dates and a status, 15 records. */
  var SAMPLE = {
    sheet: "Sales",
    address: "Sales!A1:G16",
    values: [
      ["Region", "Rep", "Product", "Units", "Sales", "Due", "Status"],
      ["North", "Ava Patel", "Desk lamp", 12, 420, "2026-11-03", "Open"],
      ["South", "Ben Okafor", "Office chair", 30, 980, "2026-11-10", "Closed"],
      ["East", "Chloe Martin", "USB cable", 7, 310, "2026-10-28", "Open"],
      ["West", "Dan Novak", "Standing desk", 41, 1250, "2026-12-02", "In Progress"],
      ["North", "Eve Schulz", "Monitor arm", 18, 760, "2026-11-21", "Closed"],
      ["South", "Finn Larsen", "HDMI cable", 3, 95, "2026-10-15", "Open"],
      ["East", "Gia Romano", "Webcam", 22, 540, "2026-11-30", "Closed"],
      ["West", "Hugo Silva", "Office chair", 55, 1830, "2026-12-14", "In Progress"],
      ["North", "Ivy Chen", "Desk lamp", 14, 480, "2026-11-07", "Open"],
      ["South", "Jonas Berg", "Keyboard", 9, 265, "2026-10-30", "Overdue"],
      ["East", "Kira Sato", "Standing desk", 26, 1105, "2026-12-09", "Open"],
      ["West", "Liam Walsh", "USB cable", 4, 60, "2026-11-12", "Closed"],
      ["North", "Maya Cohen", "Monitor", 33, 1490, "2026-12-20", "In Progress"],
      ["South", "Noah Kim", "Webcam", 11, 370, "2026-11-18", "Overdue"],
      ["East", "Olga Ivanova", "Keyboard", 16, 455, "2026-11-25", "Open"]
    ]
  };

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

  function splitAddress(address) {         // "Sheet1!$C$5:$F$20" -> {sheet: "Sheet1", range: "C5:F20"}
    var bang = address.lastIndexOf("!");
    return { sheet: bang >= 0 ? address.slice(0, bang).replace(/^'|'$/g, "") : null,
             range: (bang >= 0 ? address.slice(bang + 1) : address).replace(/\$/g, "") };
  }

  function parseRange(range) {             // "C5:F20" -> {top, left, bottom, right}; a single cell too
    var m = /^([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?$/i.exec(splitAddress(range).range);
    if (!m) return null;
    var left = columnIndex(m[1].toUpperCase()), top = parseInt(m[2], 10);
    return { top: top, left: left, bottom: m[4] ? parseInt(m[4], 10) : top,
             right: m[3] ? columnIndex(m[3].toUpperCase()) : left };
  }

  function topLeft(address) {
    var box = parseRange(address);
    return box ? { row: box.top, col: box.left } : { row: 1, col: 1 };
  }

  function isNumber(v) { return typeof v === "number" && isFinite(v); }

  function display(v) {
    if (v === null || v === undefined) return "";
    if (isNumber(v)) return Math.abs(v) >= 1e6 || Number.isInteger(v) ? String(v) : String(+v.toFixed(4));
    if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
    return String(v);
  }

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

  /* Map of A1 address -> look for one preview and its payload on the grid. */
  function cellLooks(preview, payload) {
    var looks = {};
    if (!preview) return looks;
    var base = formatLook(payload);
    (preview.cells || []).forEach(function (addr) {
      var visual = preview.visual && preview.visual[addr];
      if (visual) looks[addr] = { visual: visual };
      else if (base) looks[addr] = { css: base };
    });
    Object.keys(preview.visual || {}).forEach(function (addr) {
      if (!looks[addr]) looks[addr] = { visual: preview.visual[addr] };
    });
    return looks;
  }

  function paintVisual(td, span, v) {
    if (v.bar !== undefined) {
      var bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = (10 + 80 * v.bar) + "%";
      bar.style.background = "linear-gradient(90deg, " + (v.color || "#638EC6") + ", rgba(255,255,255,0.4))";
      td.appendChild(bar);
    } else if (v.icon) {
      var glyph = icon(v.icon, v.index);
      var i = document.createElement("span");
      i.className = "icon";
      i.textContent = glyph[0];
      i.style.color = glyph[1];
      i.setAttribute("aria-label", v.icon + " " + (v.index + 1));
      span.insertBefore(i, span.firstChild);
    } else if (v.color) {
      td.style.background = v.color;
    }
  }

  /* The grid of `values` placed at `address`; `looks` paints cells, `target` (a range) outlines the
     cells a rule will format. At most maxRows data rows. */
  function renderGrid(values, address, looks, maxRows, mini, target) {
    var origin = topLeft(address);
    var outline = target ? parseRange(target) : null;
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
        var row = origin.row + r, col = origin.col + c;
        var addr = columnLetters(col) + row;
        td.dataset.address = addr;
        if (isNumber(value) && r > 0) td.className = "num";
        if (outline && row >= outline.top && row <= outline.bottom && col >= outline.left && col <= outline.right) {
          td.classList.add("target");
        }
        var span = document.createElement("span");
        span.className = "val";
        span.textContent = display(value);
        var look = looks && looks[addr];
        if (look) {
          td.classList.add("formatted");
          if (look.css) Object.assign(td.style, look.css);
          if (look.visual) paintVisual(td, span, look.visual);
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

  root.CfSheet = {
    SAMPLE: SAMPLE, columnLetters: columnLetters, columnIndex: columnIndex, splitAddress: splitAddress,
    parseRange: parseRange, topLeft: topLeft, display: display, formatLook: formatLook, cellLooks: cellLooks,
    renderGrid: renderGrid
  };
})(typeof window !== "undefined" ? window : globalThis);
