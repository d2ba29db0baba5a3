// Behaviour every page has, signed in or not, without inline handlers (the CSP allows none):
// the language select switches at once.
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-submit-on-change]")) event.target.form.submit();
});
