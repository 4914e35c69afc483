/*
 * The denoising view: the Server-Sent Events of GET /v1/{task}/stream drawn frame by frame.
 *
 *   start -> answer (the candidates, shown at once by the caller) -> step ... step(final) -> result
 *
 * Every frame is what the model's latent spelled at that step (the service's display trajectory); the
 * view only paces them (at most one per frameMs, so a fast model still shows its steps) and marks, per
 * character, what changed since the previous frame and what already matches the candidate the line ends
 * on. Each line says how much of its candidate has settled, so lines visibly settle at their own pace.
 * Plain script: exposes window.CfDenoise.
 */
(function (root) {
  "use strict";

  var DEFAULT_FRAME_MS = 70;

  function frameMs() {
    var m = /[?&]frame_ms=(\d+)/.exec(root.location ? root.location.search : "");
    return m ? Math.max(0, parseInt(m[1], 10)) : DEFAULT_FRAME_MS;
  }

  /* Control characters and undecodable bytes of a noisy latent, drawn as a dot. */
  function visible(ch) {
    var code = ch.charCodeAt(0);
    return code < 32 || (code >= 127 && code < 160) || ch === "\uFFFD" ? "·" : ch;
  }

  /* Which characters of `code` are in place for `target`, the candidate the line ends on: those of a
     longest common subsequence that sit in runs of two or more (a lone letter of noise that happens to
     occur in the rule does not count). Works wherever the line's length still differs from the target's. */
  function settledMask(code, target) {
    var n = code.length, m = target.length, i, j;
    var table = [];
    for (i = 0; i <= n; i++) table.push(new Uint16Array(m + 1));
    for (i = n - 1; i >= 0; i--) {
      for (j = m - 1; j >= 0; j--) {
        table[i][j] = code.charAt(i) === target.charAt(j) ? table[i + 1][j + 1] + 1
          : Math.max(table[i + 1][j], table[i][j + 1]);
      }
    }
    var at = [];                         // at[i]: the target position code[i] is matched to, or -1
    for (i = 0; i < n; i++) at.push(-1);
    i = 0; j = 0;
    while (i < n && j < m) {
      if (code.charAt(i) === target.charAt(j)) { at[i] = j; i += 1; j += 1; }
      else if (table[i + 1][j] >= table[i][j + 1]) i += 1;
      else j += 1;
    }
    var mask = [], count = 0;
    for (i = 0; i < n; i++) {
      var inRun = at[i] >= 0 && ((i > 0 && at[i - 1] === at[i] - 1) || (i + 1 < n && at[i + 1] === at[i] + 1 && at[i + 1] >= 0));
      mask.push(inRun || (at[i] >= 0 && n === 1));
      if (mask[i]) count += 1;
    }
    return { mask: mask, count: count };
  }

  function View(parts) {
    this.parts = parts;            // {panel, list, step, bar}
    this.targets = null;
    this.previous = [];
    this.settledAt = [];
    this.drawn = [];               // the frames drawn, in order (read by the browser tests)
    this.firstT = null;
    this.steps = 0;                // model steps drawn so far
  }

  View.prototype.reset = function () {
    var p = this.parts;
    p.list.textContent = "";
    p.list.classList.remove("done");
    p.bar.style.width = "0";
    p.step.textContent = "";
    p.panel.hidden = false;
    this.targets = null;
    this.previous = [];
    this.settledAt = [];
    this.drawn = [];
    this.firstT = null;
    this.steps = 0;
  };

  View.prototype.setTargets = function (lines) { this.targets = lines.slice(); };

  View.prototype.draw = function (frame) {
    var p = this.parts, self = this;
    if (this.firstT === null) this.firstT = frame.t || 1;
    var fraction = frame.final ? 1 : 1 - (frame.t || 0) / this.firstT;
    p.bar.style.width = Math.round(100 * Math.max(0.02, fraction)) + "%";
    p.step.textContent = frame.restart ? "restart · t=" + frame.t : frame.noise ? "noise · t=" + frame.t
      : frame.final ? "the answer" : "step " + (this.steps += 1) + " · t=" + frame.t;
    p.list.textContent = "";
    frame.codes.forEach(function (code, i) {
      var target = self.targets ? self.targets[i] : null;
      p.list.appendChild(self.line(code, self.previous[i] || "", target, i, frame));
    });
    this.previous = frame.codes;
    this.drawn.push({ step: frame.step, t: frame.t, codes: frame.codes.slice(), final: Boolean(frame.final),
                      noise: Boolean(frame.noise) });
    root.__cfFrames = this.drawn;
  };

  View.prototype.line = function (code, before, target, index, frame) {
    var li = document.createElement("li");
    var text = document.createElement("span");
    text.className = "code";
    var run = "", kind = null;
    var match = target !== null ? settledMask(code, target) : null;
    function flush() {
      if (!run) return;
      var span = document.createElement("span");
      span.className = kind;
      span.textContent = run;
      text.appendChild(span);
      run = "";
    }
    for (var j = 0; j < code.length; j++) {
      var ch = code.charAt(j);
      var ok = match !== null && match.mask[j];
      var cls = (ok ? "settled" : "noise") + (before.charAt(j) !== ch ? " fresh" : "");
      if (cls !== kind) { flush(); kind = cls; }
      run += visible(ch);
    }
    flush();
    li.appendChild(text);
    if (target !== null) {
      var share = target.length ? match.count / Math.max(target.length, code.length) : 1;
      if (code !== target) this.settledAt[index] = undefined;
      else if (this.settledAt[index] === undefined) this.settledAt[index] = frame.step;
      var meter = document.createElement("span");
      meter.className = "meter";
      if (this.settledAt[index] === undefined) meter.textContent = Math.round(100 * share) + "%";
      else if (frame.final && this.settledAt[index] === frame.step) {
        meter.textContent = "set by the service";
        meter.title = "The model's last step read this line otherwise; the service's checks, column linking " +
          "and ranking gave the candidate listed.";
      } else meter.textContent = "settled at step " + (this.settledAt[index] + 1);
      li.appendChild(meter);
      if (this.settledAt[index] !== undefined) li.classList.add("settled");
    }
    return li;
  };

  View.prototype.finish = function (steps, restarted) {
    var p = this.parts;
    p.bar.style.width = "100%";
    p.step.textContent = "done · " + steps + (steps === 1 ? " step" : " steps") + (restarted ? " + restart" : "");
    p.list.classList.add("done");
  };

  /* Run one stream: resolves with the result body once the last frame has been drawn. `onAnswer(body)`
     gets the answer as soon as it arrives; `fallback()` is asked when the stream was refused before it
     started (its promise then stands for the result). */
  function run(url, parts, handlers) {
    var view = new View(parts), pace = frameMs();
    view.reset();
    return new Promise(function (resolve, reject) {
      var source = new EventSource(url);
      var queue = [], drawing = null, finished = null, started = false, steps = 0, restarted = false;
      handlers.opened && handlers.opened(source);

      function next() {
        var frame = queue.shift();
        if (!frame) {
          drawing = null;
          if (finished) finished();
          return;
        }
        if (!frame.restart && !frame.final && !frame.noise) steps += 1;
        restarted = restarted || Boolean(frame.restart);
        view.draw(frame);
        drawing = setTimeout(next, pace);
      }

      source.addEventListener("start", function () { started = true; });
      source.addEventListener("answer", function (e) {
        var body = JSON.parse(e.data);
        view.setTargets((body.candidates || []).map(function (c) { return c.rule || c.code; }));
        if (handlers.onAnswer) handlers.onAnswer(body);
      });
      source.addEventListener("step", function (e) {
        queue.push(JSON.parse(e.data));
        if (!drawing) next();
      });
      source.addEventListener("result", function (e) {
        source.close();
        var result = JSON.parse(e.data);
        var finish = function () { view.finish(steps, restarted); resolve(result); };
        if (drawing || queue.length) finished = finish; else finish();
      });
      source.addEventListener("error", function (e) {
        source.close();
        if (e.data) {                                  // an `error` event from the service
          reject(JSON.parse(e.data).error);
        } else if (!started && handlers.fallback) {    // refused before streaming: ask again by POST for the reason
          handlers.fallback().then(resolve, reject);
        } else {
          reject({ message: "The connection to the service was lost.", hint: "Generate again." });
        }
      });
    });
  }

  root.CfDenoise = { run: run, visible: visible };
})(typeof window !== "undefined" ? window : globalThis);
