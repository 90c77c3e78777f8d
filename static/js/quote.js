/* Firm quote page: a countdown to expires_at (the Execute button is disabled once it lapses) and a confirmation
 * dialog before the execute form is posted. Without JavaScript the form posts directly (the server re-checks
 * expiry and slippage anyway). Above the desk's hard-confirm threshold (the server says so: data-confirm-required)
 * the dialog states the cost and its Execute button stays disabled until the acknowledgement is ticked; the form
 * then carries acknowledge_cost, without which the server refuses the trade (422 CONFIRM_REQUIRED).
 */
(function () {
  "use strict";
  var OLR = window.OLR;
  var badge = document.getElementById("quote-countdown");
  var form = document.getElementById("execute-form");
  var button = document.getElementById("execute-button");
  var modalEl = document.getElementById("confirm-modal");
  if (!OLR || !form || !badge) return;

  var end = Date.parse(badge.getAttribute("data-expires-at"));
  var confirmed = false;
  var mustAck = form.getAttribute("data-confirm-required") === "true";
  var ack = document.getElementById("confirm-ack");
  var timer = null;

  function secondsLeft() { return Math.ceil((end - Date.now()) / 1000); }

  function expire() {
    window.clearInterval(timer);
    badge.setAttribute("data-state", "expired");
    badge.replaceChildren(OLR.icon("hourglass-bottom"), " expired");
    button.disabled = true;
    button.replaceChildren(OLR.icon("hourglass-bottom"), " Quote expired");
    var refresh = document.getElementById("refresh-quote-form");
    if (refresh) refresh.classList.remove("d-none");  // re-quote the same order in one click
    if (!document.getElementById("new-quote")) {
      var link = OLR.el("a", "btn btn-outline-primary w-100 mt-2", "");
      link.id = "new-quote";
      link.href = form.getAttribute("data-ticket-url") || "/trade";
      link.append(OLR.icon("arrow-repeat"), " New quote");
      (refresh || form).after(link);
    }
    var confirmBtn = document.getElementById("confirm-execute");
    if (confirmBtn) confirmBtn.disabled = true;
    var note = document.getElementById("confirm-countdown");
    if (note) note.textContent = "The quote has expired: close this and request a new one.";
  }

  function tick() {
    var left = secondsLeft();
    if (left <= 0) { expire(); return; }
    badge.setAttribute("data-state", left <= 5 ? "ending" : "live");
    badge.replaceChildren(OLR.icon("hourglass-split"), " expires in " + left + " s");
    var note = document.getElementById("confirm-countdown");
    if (note) note.textContent = "The quote expires in " + left + " s.";
  }

  tick();
  timer = window.setInterval(tick, 250);

  /** The trader's acknowledgement travels with the form (the server checks it). */
  function acknowledge() {
    if (!mustAck || form.querySelector('input[name="acknowledge_cost"]')) return;
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "acknowledge_cost";
    field.value = "y";
    form.appendChild(field);
  }

  var modal = modalEl && window.bootstrap ? window.bootstrap.Modal.getOrCreateInstance(modalEl) : null;
  var confirmBtn = document.getElementById("confirm-execute");
  form.addEventListener("submit", function (event) {
    if (confirmed) { button.disabled = true; return; }
    event.preventDefault();
    if (secondsLeft() <= 0) { expire(); return; }
    if (!modal) {  // no Bootstrap: fall back to the browser's own dialog
      var text = form.getAttribute("data-summary") + "?";
      var hard = document.getElementById("hard-confirm-text");
      if (mustAck && hard) text = hard.textContent.replace(/\s+/g, " ").trim() + "\n\n" + text;
      if (window.confirm(text)) { acknowledge(); confirmed = true; button.disabled = true; form.submit(); }
      return;
    }
    document.getElementById("confirm-summary").textContent = form.getAttribute("data-summary");
    document.getElementById("confirm-detail").textContent = form.getAttribute("data-detail");
    if (ack) ack.checked = false;  // every opening asks again
    if (confirmBtn && mustAck) confirmBtn.disabled = true;
    modal.show();
  });
  if (ack && confirmBtn) {
    ack.addEventListener("change", function () { confirmBtn.disabled = !ack.checked || secondsLeft() <= 0; });
  }
  if (confirmBtn) {
    confirmBtn.addEventListener("click", function () {
      if (secondsLeft() <= 0) { expire(); return; }
      if (mustAck && !(ack && ack.checked)) return;
      acknowledge();
      confirmed = true;
      confirmBtn.disabled = true;
      button.disabled = true;
      form.submit();
    });
  }
  if (modalEl) modalEl.addEventListener("shown.bs.modal", function () {
    if (mustAck && ack) ack.focus(); else if (confirmBtn) confirmBtn.focus();
  });
})();
