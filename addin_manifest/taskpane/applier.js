/*
 * The generic Office.js applier: turns one payload from the service into a conditional format.
 *
 *   payload = {address, type, property, [property]: settings}
 *   const cf = range.conditionalFormats.add(payload.type);
 *   assign(cf[payload.property], payload[payload.property]);
 *
 * assign(target, settings) walks nested objects (format.fill.color, format.font.bold,
 * positiveFormat.fillColor) because Office.js exposes them as navigation objects, and sets the
 * keys Office.js only accepts whole (rule, criteria, lowerBoundRule, upperBoundRule) in one go.
 * One exception: a custom format's `rule` is a read-only ConditionalFormatRule object, so it
 * is walked too (custom.rule.formula = "=...").
 * Plain script (no modules) so it runs in Office's webviews, in any browser and under node.
 */
(function (root) {
  "use strict";

  var WHOLE_VALUE_KEYS = ["rule", "criteria", "lowerBoundRule", "upperBoundRule"];
  var TYPES = {
    cellValue: "cellValue", containsText: "textComparison", topBottom: "topBottom",
    presetCriteria: "preset", custom: "custom", colorScale: "colorScale",
    dataBar: "dataBar", iconSet: "iconSet"
  };

  function isPlainObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function assign(target, settings, path, wholeKeys) {
    path = path || "";
    wholeKeys = wholeKeys || WHOLE_VALUE_KEYS;
    Object.keys(settings).forEach(function (key) {
      var value = settings[key];
      if (value === undefined) return;
      if (wholeKeys.indexOf(key) >= 0 || !isPlainObject(value)) {
        target[key] = value;
        return;
      }
      var child = target[key];
      if (child === null || typeof child !== "object") {
        throw new Error("Office.js object has no '" + path + key + "' to set");
      }
      assign(child, value, path + key + ".", wholeKeys);
    });
  }

  function checkPayload(payload) {
    if (!isPlainObject(payload)) throw new Error("payload must be an object");
    var expected = TYPES[payload.type];
    if (!expected) throw new Error("unknown conditional format type '" + payload.type + "'");
    if (payload.property !== expected) {
      throw new Error("type '" + payload.type + "' keeps its settings in '" + expected +
                      "', not '" + payload.property + "'");
    }
    if (!isPlainObject(payload[payload.property])) {
      throw new Error("payload has no '" + payload.property + "' settings");
    }
  }

  /* Add the conditional format described by `payload` to an Excel.Range; returns the
     ConditionalFormat (the caller syncs the context). */
  function applyOfficePayload(range, payload) {
    checkPayload(payload);
    var conditionalFormat = range.conditionalFormats.add(payload.type);
    var target = conditionalFormat[payload.property];
    if (!target) throw new Error("the new conditional format has no '" + payload.property + "'");
    var wholeKeys = payload.type === "custom"
      ? WHOLE_VALUE_KEYS.filter(function (key) { return key !== "rule"; })
      : WHOLE_VALUE_KEYS;
    assign(target, payload[payload.property], payload.property + ".", wholeKeys);
    return conditionalFormat;
  }

  /* "Sheet1!C5:F20" -> {sheet: "Sheet1", range: "C5:F20"}; quotes around the sheet removed. */
  function splitAddress(address) {
    var bang = address.lastIndexOf("!");
    if (bang < 0) return { sheet: null, range: address };
    var sheet = address.slice(0, bang);
    if (sheet.charAt(0) === "'" && sheet.charAt(sheet.length - 1) === "'") {
      sheet = sheet.slice(1, -1).replace(/''/g, "'");
    }
    return { sheet: sheet, range: address.slice(bang + 1) };
  }

  /* Apply inside Excel: resolve the payload's address on `sheetName` (or the active sheet). */
  function applyInExcel(Excel, payload, sheetName) {
    return Excel.run(function (context) {
      var sheets = context.workbook.worksheets;
      var sheet = sheetName ? sheets.getItem(sheetName) : sheets.getActiveWorksheet();
      var range = sheet.getRange(splitAddress(payload.address).range);
      applyOfficePayload(range, payload);
      return context.sync();
    });
  }

  var api = {
    applyOfficePayload: applyOfficePayload,
    applyInExcel: applyInExcel,
    assign: assign,
    splitAddress: splitAddress,
    WHOLE_VALUE_KEYS: WHOLE_VALUE_KEYS,
    TYPES: TYPES
  };
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api;
  } else {
    root.CfApplier = api;
  }
})(typeof self !== "undefined" ? self : this);
