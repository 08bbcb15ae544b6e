// The copy button of a new key's secret (key_created.html): a file, not an inline script,
// as the Content-Security-Policy (script-src 'self') requires.
(function () {
  "use strict";
  var button = document.getElementById("copy-secret");
  if (!button) { return; }
  button.addEventListener("click", function () {
    var shown = document.getElementById("key-secret");
    function done() { document.getElementById("copy-status").textContent = button.dataset.copied; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(shown.textContent.trim()).then(done);
    } else {  // plain http: select the secret and copy the selection
      window.getSelection().selectAllChildren(shown);
      if (document.execCommand("copy")) { done(); }
    }
  });
}());
