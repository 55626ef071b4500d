/*
 * govportal — progressive enhancement only. Every page works without this file: forms post
 * to the server, links are links. The Content-Security-Policy allows no inline script or
 * event handler (onclick=…): behaviour is attached here through data attributes.
 *   data-print           a button that opens the browser's print dialog (notices, guides)
 *   data-confirm="…"     a submit button or link that asks before it acts
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    if (target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
      return;
    }
    var confirmable = target.closest("[data-confirm]");
    if (confirmable && !window.confirm(confirmable.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
