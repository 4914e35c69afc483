// The task pane's generic applier (taskpane/applier.js) against a mock of the Excel API.
//
// The workbook -> worksheet -> range -> conditionalFormats chain is an office-addin-mock
// OfficeMockObject. Each conditional format added is an OfficeMockObject too, populated with
// the properties Excel's ConditionalFormat really has (ExcelApi 1.6) and wrapped so that
// setting a property Excel does not have throws: a typo in a payload cannot pass silently.
//
// Payloads: the examples below, plus, when CF_PAYLOADS names a JSON file, the payloads the
// Python service really produced (tests/service/test_taskpane_js.py writes that file).
//
// Run: cd addin_manifest/test && npm ci && node --test
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";

const require = createRequire(import.meta.url);
const { OfficeMockObject } = require("office-addin-mock");
const applier = require("../taskpane/applier.js");

// --- Excel's conditional format object model (what may be set), ExcelApi 1.6
const U = undefined;
const border = () => ({ color: U, style: U });
const rangeFormat = () => ({
  fill: { color: U },
  font: { color: U, bold: U, italic: U, underline: U, strikethrough: U },
  borders: { top: border(), bottom: border(), left: border(), right: border() },
  numberFormat: U,
});
const MODEL = {
  cellValue: () => ({ format: rangeFormat(), rule: U }),
  textComparison: () => ({ format: rangeFormat(), rule: U }),
  topBottom: () => ({ format: rangeFormat(), rule: U }),
  preset: () => ({ format: rangeFormat(), rule: U }),
  custom: () => ({ format: rangeFormat(), rule: { formula: U, formulaLocal: U, formulaR1C1: U } }),
  colorScale: () => ({ criteria: U }),
  dataBar: () => ({
    barDirection: U, showDataBarOnly: U, axisColor: U, axisFormat: U, lowerBoundRule: U, upperBoundRule: U,
    positiveFormat: { fillColor: U, gradientFill: U, borderColor: U },
    negativeFormat: { fillColor: U, borderColor: U, matchPositiveFillColor: U, matchPositiveBorderColor: U },
  }),
  iconSet: () => ({ style: U, reverseIconOrder: U, showIconOnly: U, criteria: U }),
};
const TYPE_TO_PROPERTY = {
  cellValue: "cellValue", containsText: "textComparison", topBottom: "topBottom", presetCriteria: "preset",
  custom: "custom", colorScale: "colorScale", dataBar: "dataBar", iconSet: "iconSet",
};

/** A proxy over a populated mock that refuses properties outside `shape`. */
function strict(mock, shape, path) {
  return new Proxy(mock, {
    get(target, key) {
      const value = target[key];
      if (typeof key === "string" && shape && Object.prototype.hasOwnProperty.call(shape, key)
          && shape[key] !== U && typeof shape[key] === "object") {
        return strict(value, shape[key], `${path}.${key}`);
      }
      return value;
    },
    set(target, key, value) {
      if (!Object.prototype.hasOwnProperty.call(shape, key)) {
        throw new TypeError(`Excel has no property ${path}.${String(key)}`);
      }
      if (shape[key] !== U && typeof shape[key] === "object") {
        throw new TypeError(`${path}.${String(key)} is a read-only navigation property`);
      }
      target[key] = value;
      return true;
    },
  });
}

function conditionalFormatMock(type) {
  const shape = {};
  for (const [name, make] of Object.entries(MODEL)) shape[name] = make();
  const mock = new OfficeMockObject({ ...shape, type });
  return strict(mock, shape, "conditionalFormat");
}

function excelMock() {
  const log = { added: [], ranges: [], sheets: [], syncs: 0 };
  const rangeData = {
    conditionalFormats: {
      add(type) {
        if (!TYPE_TO_PROPERTY[type]) throw new Error(`InvalidArgument: ${type}`);
        const cf = conditionalFormatMock(type);
        log.added.push({ type, cf });
        return cf;
      },
    },
  };
  const data = {
    context: {
      workbook: {
        worksheets: {
          getActiveWorksheet() { log.sheets.push(null); return this.sheet; },
          getItem(name) { log.sheets.push(name); return this.sheet; },
          sheet: { getRange(address) { log.ranges.push(address); return this.range; }, range: rangeData },
        },
      },
      async sync() { log.syncs += 1; },
    },
    async run(callback) { return callback(this.context); },
  };
  return { Excel: new OfficeMockObject(data), log };
}

// --- payloads
const EXAMPLES = [
  { address: "B2:B20", type: "cellValue", property: "cellValue", cellValue: {
    format: { fill: { color: "#FFC7CE" }, font: { color: "#9C0006", bold: true } },
    rule: { formula1: "500", operator: "LessThan" } } },
  { address: "A2:D20", type: "custom", property: "custom", custom: {
    format: { fill: { color: "#C6EFCE" }, borders: { top: { color: "#006100", style: "Continuous" } } },
    rule: { formula: "=$C2>4000" } } },
  { address: "C2:C9", type: "colorScale", property: "colorScale", colorScale: { criteria: {
    minimum: { formula: null, type: "LowestValue", color: "#F8696B" },
    maximum: { formula: null, type: "HighestValue", color: "#63BE7B" } } } },
  { address: "C2:C9", type: "dataBar", property: "dataBar", dataBar: {
    barDirection: "Context", positiveFormat: { fillColor: "#638EC6", gradientFill: true },
    lowerBoundRule: { type: "LowestValue" }, upperBoundRule: { type: "HighestValue" } } },
  { address: "C2:C9", type: "iconSet", property: "iconSet", iconSet: { style: "ThreeTrafficLights1", criteria: [
    {}, { type: "Percent", operator: "GreaterThanOrEqual", formula: "=33" },
    { type: "Percent", operator: "GreaterThanOrEqual", formula: "=67" }] } },
];
const SERVICE_PAYLOADS = process.env.CF_PAYLOADS ? JSON.parse(readFileSync(process.env.CF_PAYLOADS, "utf8")) : [];

/** Every setting of the payload, read back from the mock: whole values deep-equal, objects walked. */
function assertApplied(target, settings, whole, path) {
  for (const [key, value] of Object.entries(settings)) {
    const walk = value !== null && typeof value === "object" && !Array.isArray(value) && !whole.includes(key);
    if (walk) assertApplied(target[key], value, whole, `${path}.${key}`);
    else assert.deepEqual(target[key], value, `${path}.${key}`);
  }
}

function checkPayload(payload) {
  return async () => {
    const { Excel, log } = excelMock();
    await applier.applyInExcel(Excel, payload, "Sales");
    assert.equal(log.added.length, 1);
    assert.equal(log.added[0].type, payload.type);
    assert.deepEqual(log.ranges, [applier.splitAddress(payload.address).range]);
    assert.deepEqual(log.sheets, ["Sales"]);
    assert.equal(log.syncs, 1);
    const whole = payload.type === "custom" ? ["criteria", "lowerBoundRule", "upperBoundRule"]
      : ["rule", "criteria", "lowerBoundRule", "upperBoundRule"];
    assertApplied(log.added[0].cf[payload.property], payload[payload.property], whole, payload.property);
  };
}

for (const payload of EXAMPLES) test(`example ${payload.type} payload is applied`, checkPayload(payload));
for (const [i, payload] of SERVICE_PAYLOADS.entries()) {
  test(`service payload ${i} (${payload.rule_text || payload.type}) is applied`, checkPayload(payload));
}

test("the active sheet is used when no sheet is named", async () => {
  const { Excel, log } = excelMock();
  await applier.applyInExcel(Excel, EXAMPLES[0], null);
  assert.deepEqual(log.sheets, [null]);
});

test("a custom rule's formula is set on its rule object, not by replacing it", async () => {
  const { Excel, log } = excelMock();
  await applier.applyInExcel(Excel, EXAMPLES[1], "Sales");
  const custom = log.added[0].cf.custom;
  assert.equal(custom.rule.formula, "=$C2>4000");
  assert.equal(custom.format.borders.top.style, "Continuous");
});

test("a property Excel does not have is refused, not silently added", async () => {
  const { Excel } = excelMock();
  const bad = structuredClone(EXAMPLES[0]);
  bad.cellValue.format.fill = { colour: "#FF0000" };
  await assert.rejects(applier.applyInExcel(Excel, bad, "Sales"), /no property conditionalFormat.cellValue.format.fill.colour/);
});

test("payloads with an unknown type or a mismatched property are refused before Excel is touched", () => {
  const range = { conditionalFormats: { add() { throw new Error("must not be called"); } } };
  assert.throws(() => applier.applyOfficePayload(range, { ...EXAMPLES[0], type: "sparkles" }), /unknown conditional format type/);
  assert.throws(() => applier.applyOfficePayload(range, { ...EXAMPLES[0], property: "custom" }), /keeps its settings in 'cellValue'/);
  assert.throws(() => applier.applyOfficePayload(range, { type: "cellValue", property: "cellValue" }), /no 'cellValue' settings/);
  assert.throws(() => applier.applyOfficePayload(range, null), /payload must be an object/);
});

test("addresses are split into sheet and range", () => {
  assert.deepEqual(applier.splitAddress("Sheet1!C5:F20"), { sheet: "Sheet1", range: "C5:F20" });
  assert.deepEqual(applier.splitAddress("'Q1 ''24'!A1"), { sheet: "Q1 '24", range: "A1" });
  assert.deepEqual(applier.splitAddress("B2:B9"), { sheet: null, range: "B2:B9" });
});
