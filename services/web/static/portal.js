// Optional: every page works without it. It refuses a file too large before it is sent, adds a print button,
// links the region list into province then regency or city, and keeps whistleblowing reports anonymous and
// confidential on the form.
(function () {
  "use strict";

  function printButton() {
    var button = document.getElementById("print");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }

  function copyReceipt() {
    var button = document.getElementById("copy-receipt");
    var receipt = document.getElementById("receipt");
    if (!button || !receipt) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = receipt.textContent.trim();
      function copied() { button.textContent = button.getAttribute("data-copied"); }
      function bySelection() {
        var range = document.createRange();
        range.selectNodeContents(receipt);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        if (document.execCommand("copy")) copied();
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(copied, bySelection);
      } else {
        bySelection();
      }
    });
  }

  function focusErrors() {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  function wbsPrivacy() {
    var form = document.getElementById("report-form");
    if (!form) return;
    var boxes = [document.getElementById("is_anonymous"), document.getElementById("is_confidential")];
    function sync() {
      var wbs = form.querySelector("input[name=classification][value=wbs]");
      var on = wbs && wbs.checked;
      boxes.forEach(function (box) {
        if (!box) return;
        if (on) box.checked = true;
        box.disabled = !!on;
      });
    }
    form.addEventListener("change", sync);
    // Disabled boxes are not sent; the server makes whistleblowing anonymous and confidential anyway.
    sync();
  }

  function linkedRegions() {
    var select = document.querySelector("select[data-linked-region]");
    if (!select) return;
    var groups = select.querySelectorAll("optgroup");
    if (!groups.length) return;
    var doc = document;
    var province = doc.createElement("select");
    province.className = "select";
    province.id = "region-province";
    var none = doc.createElement("option");
    none.value = "";
    none.textContent = select.options[0].textContent;
    province.appendChild(none);
    var current = select.value;
    var chosen = "";
    Array.prototype.forEach.call(groups, function (group, index) {
      var option = doc.createElement("option");
      option.value = String(index);
      option.textContent = group.label;
      province.appendChild(option);
      Array.prototype.forEach.call(group.querySelectorAll("option"), function (o) {
        if (o.value === current) chosen = String(index);
      });
    });
    var local = doc.createElement("select");
    local.className = "select";
    local.id = "region-local";
    local.name = select.name;
    var localLabel = doc.createElement("label");
    localLabel.htmlFor = local.id;
    localLabel.textContent = select.getAttribute("data-local-label") || "Kabupaten/kota";
    function fill() {
      while (local.firstChild) local.removeChild(local.firstChild);
      if (province.value === "") {
        var empty = doc.createElement("option");
        empty.value = "";
        empty.textContent = none.textContent;
        local.appendChild(empty);
        local.disabled = true;
        return;
      }
      local.disabled = false;
      Array.prototype.forEach.call(groups[Number(province.value)].querySelectorAll("option"), function (o) {
        var copy = doc.createElement("option");
        copy.value = o.value;
        copy.textContent = o.textContent;
        copy.selected = o.value === current;
        local.appendChild(copy);
      });
    }
    province.value = chosen;
    province.addEventListener("change", function () { current = ""; fill(); });
    local.addEventListener("change", function () { current = local.value; });
    fill();
    var holder = select.parentNode;
    select.name = "";
    select.hidden = true;
    select.disabled = true;
    var visibleLabel = holder.querySelector("label[for=region_code]");
    if (visibleLabel) visibleLabel.htmlFor = province.id;
    holder.appendChild(province);
    holder.appendChild(localLabel);
    holder.appendChild(local);
    // A province-only choice still sends the province's own code (the first option of its group).
  }

  function fileSizes() {
    Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-max-bytes]"), function (input) {
      var max = Number(input.getAttribute("data-max-bytes"));
      var error = document.createElement("p");
      error.className = "field-error";
      error.id = input.id + "-too-large";
      function tooLarge() {
        return Array.prototype.filter.call(input.files || [], function (f) { return f.size > max; });
      }
      function check() {
        var big = tooLarge();
        if (!big.length) {
          if (error.parentNode) error.parentNode.removeChild(error);
          return true;
        }
        var names = big.map(function (f) { return f.name; }).join(", ");
        error.textContent = names + ": " + input.getAttribute("data-too-large");
        if (!error.parentNode) input.parentNode.insertBefore(error, input);
        var described = input.getAttribute("aria-describedby") || "";
        if (described.indexOf(error.id) < 0) input.setAttribute("aria-describedby", (described + " " + error.id).trim());
        return false;
      }
      input.addEventListener("change", check);
      if (input.form) {
        input.form.addEventListener("submit", function (event) {
          if (!check()) {
            event.preventDefault();
            input.focus();
          }
        });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    fileSizes();
    printButton();
    copyReceipt();
    focusErrors();
    wbsPrivacy();
    linkedRegions();
  });
})();
