// The public survey page: one answer per press. The send button is disabled while the POST
// is in flight, so a double click (or an impatient second click) sends the form once.
// Without JavaScript the form is plain HTML and posts all the same.
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  if (!form) {
    return;
  }
  var button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", function (event) {
    if (button.disabled) {
      event.preventDefault();
      return;
    }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  });
  // Back to this page from the saved page (back/forward cache): usable again.
  window.addEventListener("pageshow", function () {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  });
})();
