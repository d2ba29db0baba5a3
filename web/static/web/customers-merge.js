// The merge and undo forms (docs/customers-merge.md). Choosing the record to keep makes
// each differing field default to that record's value (the other one's where it is blank),
// except the fields already picked by hand. A submitted form's button is disabled so a
// second click sends nothing (the server acts once per form token anyway).
(function () {
  "use strict";
  var form = document.getElementById("merge-form");
  if (form) {
    var touched = {};
    form.querySelectorAll("tr.differs input[type=radio]").forEach(function (input) {
      input.addEventListener("change", function () { touched[input.name] = true; });
    });
    form.querySelectorAll("input[name=keep]").forEach(function (keep) {
      keep.addEventListener("change", function () {
        var side = keep.dataset.side;
        form.querySelectorAll("tr.differs").forEach(function (row) {
          var mine = row.querySelector("input[data-side='" + side + "']");
          var theirs = row.querySelector("input[type=radio]:not([data-side='" + side + "'])");
          if (!mine || !theirs || touched[mine.name]) { return; }
          (mine.dataset.blank && !theirs.dataset.blank ? theirs : mine).checked = true;
        });
      });
    });
  }
  document.querySelectorAll("#merge-form, .undo-form").forEach(function (each) {
    each.addEventListener("submit", function () {
      var button = each.querySelector("button[type=submit]");
      if (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  });
})();
