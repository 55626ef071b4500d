/*
 * govportal — progressive enhancement only. Every page works without this file: forms post
 * to the server, links are links. It only tells the stylesheet that JavaScript is available.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
})();
