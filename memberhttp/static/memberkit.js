// memberkit's screens work without this script; with it, filters apply
// as they are chosen, "select all" ticks the page's rows, and the row
// actions ask in a dialog instead of a page of their own.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
  var all = document.getElementById("select-all");
  if (all) {
    var boxes = document.querySelectorAll("input.mk-select");
    all.hidden = boxes.length === 0;
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
    });
  }
  var csrf = document.querySelector("input[name=csrf]");
  var back = document.querySelector("#bulk input[name=back], #filters ~ * input[name=back]");
  document.querySelectorAll("a[data-confirm]").forEach(function (a) {
    a.addEventListener("click", function (e) {
      if (!csrf) { return; }
      e.preventDefault();
      if (!window.confirm(a.getAttribute("data-confirm"))) { return; }
      var f = document.createElement("form");
      f.method = "post";
      f.action = a.getAttribute("data-post");
      [["csrf", csrf.value], ["back", back ? back.value : ""]].forEach(function (kv) {
        var i = document.createElement("input");
        i.type = "hidden"; i.name = kv[0]; i.value = kv[1];
        f.appendChild(i);
      });
      document.body.appendChild(f);
      f.submit();
    });
  });
})();
