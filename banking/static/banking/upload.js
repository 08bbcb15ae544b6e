// The statement upload page (admin/banking/upload.html): drop a file on the zone to choose it.
// A file, not an inline script, as the Content-Security-Policy (script-src 'self') requires.
(function () {
  "use strict";
  var zone = document.getElementById("drop-zone");
  if (!zone) { return; }
  var input = zone.querySelector("input[type=file]");
  var label = document.getElementById("drop-file-name");
  function show() { label.textContent = input.files.length ? input.files[0].name : ""; }
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      show();
    }
  });
  input.addEventListener("change", show);
}());
