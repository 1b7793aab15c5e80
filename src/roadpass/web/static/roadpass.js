/* roadpass web UI: small progressive enhancements (every page works without them). */
(function () {
  "use strict";
  // Upload progress of htmx form posts (large captures): fills the form's <progress data-upload>.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    var bar = form ? form.querySelector("progress[data-upload]") : null;
    if (bar && event.detail.lengthComputable) {
      bar.hidden = false;
      bar.max = event.detail.total;
      bar.value = event.detail.loaded;
    }
  });
  // "Expand all" / "Collapse all" for the as-built tree.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-tree-toggle]") : null;
    if (!button) { return; }
    var open = button.getAttribute("data-tree-toggle") === "open";
    document.querySelectorAll("#as-built details").forEach(function (d) { d.open = open; });
  });
}());
