/*
 * The service-code page (templates/identity/service_code.html): counts the code's seconds
 * down and, `data-refresh-before` seconds before it expires, submits the refresh form so a
 * fresh code is on screen when the clerk scans it. The server bounds how many refreshes
 * happen in a row (`data-auto-refresh` is absent once the limit is reached: the page then
 * says the code expired and waits for a click). Without this file the button refreshes.
 *
 * The count is relative to page load (`data-seconds-left` from the server), so a phone whose
 * clock is wrong still refreshes in time. Timers of hidden tabs are throttled: each tick
 * recomputes from the start time rather than counting ticks.
 */
(function () {
  "use strict";

  function start(box) {
    var secondsLeft = parseInt(box.getAttribute("data-seconds-left"), 10);
    var before = parseInt(box.getAttribute("data-refresh-before"), 10) || 0;
    if (isNaN(secondsLeft)) {
      return;
    }
    var form = document.querySelector("[data-countdown-refresh]");
    var auto = form && form.hasAttribute("data-auto-refresh");
    var shown = box.querySelector("[data-countdown-seconds]");
    var autoNote = box.querySelector("[data-countdown-auto]");
    var expired = document.querySelector("[data-countdown-expired]");
    var startedAt = Date.now();
    var submitted = false;
    var timer = null;

    if (autoNote && !auto) {
      autoNote.hidden = true;
    }
    box.hidden = false;

    function refresh() {
      if (submitted || !form) {
        return;
      }
      submitted = true;
      var count = form.querySelector("[data-countdown-auto-count]");
      if (count) {
        count.value = String((parseInt(count.value, 10) || 0) + 1);
      }
      form.submit();
    }

    function tick() {
      var left = Math.max(0, secondsLeft - Math.floor((Date.now() - startedAt) / 1000));
      shown.textContent = String(left);
      if (auto && left <= before) {
        window.clearInterval(timer);
        refresh();
        return;
      }
      if (left <= 0) {
        window.clearInterval(timer);
        box.hidden = true;
        if (expired) {
          expired.hidden = false;
        }
      }
    }

    // A person's own click starts the count of automatic refreshes again.
    if (form) {
      form.addEventListener("submit", function () {
        if (!submitted) {
          var count = form.querySelector("[data-countdown-auto-count]");
          if (count) {
            count.value = "0";
          }
        }
      });
    }
    timer = window.setInterval(tick, 1000);
    document.addEventListener("visibilitychange", tick);
    tick();
  }

  function init() {
    var box = document.querySelector("[data-countdown]");
    if (box) {
      start(box);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
