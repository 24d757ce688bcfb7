// Small behaviours shared by every page, bound here rather than in on* attributes so
// that the Content-Security-Policy can refuse all inline script.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    // A read-only field whose whole value is meant to be copied (the status link).
    var field = target.closest("[data-select-all]");
    if (field) field.select();
    if (target.closest("[data-print]")) window.print();
  });
})();
