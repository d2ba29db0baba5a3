// The customer pages (/help/): progressive enhancement only; every form works without this.
// * A form marked data-once is sent once per press: the button is disabled while the POST is
//   in flight (the server's one-time token answers a second POST with the first result).
// * A file over the size limit, or too many files, is named before anything is uploaded.
// * Times are shown in the reader's own time zone.
(function () {
  "use strict";
  var ready = function () {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      var button = form.querySelector("button[type=submit]");
      form.addEventListener("submit", function (event) {
        if (!button) return;
        if (button.disabled) {
          event.preventDefault();
          return;
        }
        // Disabled after this turn, so the button's own value is still sent.
        window.setTimeout(function () {
          button.disabled = true;
          button.setAttribute("aria-busy", "true");
        }, 0);
      });
      // Back to the page from the next one (back/forward cache): usable again.
      window.addEventListener("pageshow", function () {
        if (!button) return;
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
    });

    document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
      var problem = input.form && input.form.querySelector("#files-problem");
      input.addEventListener("change", function () {
        var maxBytes = Number(input.dataset.maxBytes);
        var maxFiles = Number(input.dataset.maxFiles);
        var messages = [];
        if (input.files.length > maxFiles) {
          messages.push(input.dataset.tooMany.replace("%(count)s", maxFiles));
        }
        Array.prototype.forEach.call(input.files, function (file) {
          if (file.size > maxBytes) {
            messages.push(
              input.dataset.tooLarge
                .replace("%(name)s", file.name)
                .replace("%(limit)s", input.dataset.maxMb)
            );
          }
        });
        var message = messages.join(" ");
        input.setCustomValidity(message);
        if (problem) {
          problem.textContent = message;
          problem.hidden = !message;
        }
      });
    });

    document.querySelectorAll("time[datetime]").forEach(function (time) {
      var moment = new Date(time.getAttribute("datetime"));
      if (isNaN(moment.getTime())) return;
      time.title = time.textContent;
      time.textContent = moment.toLocaleString(document.documentElement.lang, {
        dateStyle: "medium",
        timeStyle: "short",
      });
    });
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
