/*
 * The Bash / Python tab: a request, the candidates as text with a copy button and the confidence and
 * origin the service reports, and the same denoising view as the formatting tab. The code is never run.
 * Plain script: exposes window.CfCodeTab (init is called by taskpane.js with its service helpers).
 */
(function (root) {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var ORIGINS = { model: "written by the model", neighbour: "adapted from a similar example",
                  both: "written by the model and found in a similar example" };
  var helpers = null, busy = false, stream = null, models = {};

  function setBusy(on) {
    busy = on;
    $("code-generate").disabled = on;
    $("code-generate").textContent = on ? "Generating…" : "Generate";
  }

  function copy(text, button) {
    var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }

  function fallbackCopy(text) {             // webviews without the async clipboard
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing else to try */ }
    document.body.removeChild(area);
  }

  function showResults(task, result) {
    var list = $("code-results");
    list.textContent = "";
    var candidates = result.candidates || [];
    var info = models[task] || {};
    $("code-status").textContent = candidates.length
      ? candidates.length + " candidate" + (candidates.length === 1 ? "" : "s") + ", best first" +
        (info.version ? " (" + task + " model " + info.version + ")" : "") + ". Not run: read before use."
      : "No code that parses came out for this request. Try rephrasing it.";
    candidates.forEach(function (candidate, index) {
      var li = document.createElement("li");
      if (index === 0) li.className = "best";
      var head = document.createElement("div");
      head.className = "cand-head";
      var rank = document.createElement("span");
      rank.className = "rank";
      rank.textContent = index === 0 ? "best" : "#" + (index + 1);
      var code = document.createElement("code");
      code.className = "rule";
      code.textContent = candidate.code;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary copy";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy " + candidate.code);
      button.addEventListener("click", function () { copy(candidate.code, button); });
      head.appendChild(rank);
      head.appendChild(code);
      head.appendChild(button);
      li.appendChild(head);
      var meta = document.createElement("div");
      meta.className = "meta";
      if (typeof candidate.confidence === "number") {
        var confidence = document.createElement("span");
        confidence.className = "confidence";
        confidence.textContent = "confidence " + Math.round(100 * candidate.confidence) + "%";
        confidence.title = "The service's calibrated estimate that this code does what was asked";
        meta.appendChild(confidence);
      }
      if (candidate.origin) {
        var origin = document.createElement("span");
        origin.className = "origin";
        origin.textContent = ORIGINS[candidate.origin] || candidate.origin;
        meta.appendChild(origin);
      }
      var score = document.createElement("span");
      score.textContent = "score " + Number(candidate.score).toFixed(2);
      meta.appendChild(score);
      li.appendChild(meta);
      list.appendChild(li);
    });
    $("code-results-section").hidden = false;
  }

  function generate() {
    var task = $("code-task").value, request = $("code-request").value.trim(), k = parseInt($("code-k").value, 10);
    var box = $("code-error");
    if (!request) {
      helpers.showError(box, { message: "Describe the command first.", hint: "For example: list all files larger than 10 MB." });
      $("code-request").focus();
      return;
    }
    helpers.showError(box, null);
    if (stream) stream.close();
    setBusy(true);
    $("code-results-section").hidden = true;
    var post = function () {
      $("code-denoise").hidden = true;
      return helpers.postJSON("/v1/" + task + "/generate", { request: request, k: k });
    };
    var params = new URLSearchParams({ request: request, k: String(k) });
    var done = $("code-animate").checked && root.EventSource
      ? root.CfDenoise.run("/v1/" + task + "/stream?" + params.toString(),
          { panel: $("code-denoise"), list: $("code-noise"), step: $("code-step"), bar: $("code-progress-bar") },
          { opened: function (source) { stream = source; }, onAnswer: function (body) { showResults(task, body); },
            fallback: post })
      : post();
    done.then(function (result) { showResults(task, result); }, function (err) {
      $("code-denoise").hidden = true;
      helpers.showError(box, err);
    }).then(function () { setBusy(false); });
  }

  function init(given) {
    helpers = given;
    $("code-ask").addEventListener("submit", function (e) { e.preventDefault(); if (!busy) generate(); });
    $("code-request").addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (!busy) generate(); }
    });
  }

  /* /healthz's models: the code tab names the model version it shows candidates from. */
  function health(given) { models = given || {}; }

  root.CfCodeTab = { init: init, health: health };
})(typeof window !== "undefined" ? window : globalThis);
