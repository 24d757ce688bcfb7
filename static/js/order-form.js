// The staff order form: live line and order totals, and "use this customer".
(function () {
  "use strict";
  var form = document.getElementById("staff-order-form") || document.getElementById("order-edit");
  if (!form) return;

  function money(value) {
    return value.toFixed(2);
  }

  function recompute() {
    var total = 0;
    form.querySelectorAll("[data-line-product]").forEach(function (select) {
      var row = select.closest(".form-grid");
      var quantity = row ? row.querySelector("[data-line-quantity]") : null;
      var option = select.options[select.selectedIndex];
      var price = option ? parseFloat(option.getAttribute("data-price")) : NaN;
      var qty = quantity ? parseInt(quantity.value, 10) : NaN;
      var out = row ? row.querySelector("[data-line-total]") : null;
      var line = !isNaN(price) && qty > 0 ? price * qty : 0;
      if (out) out.textContent = line ? money(line) : "—";
      total += line;
    });
    var totalOut = document.getElementById("live-total");
    if (totalOut) totalOut.textContent = money(total);
  }

  form.addEventListener("input", recompute);
  form.addEventListener("change", recompute);
  recompute();

  var fill = {
    name: "id_customer_name", phone: "id_customer_phone", email: "id_customer_email",
    province: "id_province", city: "id_city", district: "id_district",
    street: "id_street", postal: "id_postal_code"
  };
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-use-customer]");
    if (!button) return;
    Object.keys(fill).forEach(function (key) {
      var value = button.getAttribute("data-" + key);
      var input = document.getElementById(fill[key]);
      if (input && value !== null) input.value = value;
    });
    var match = document.getElementById("customer-match");
    if (match) match.innerHTML = "";
    var first = form.querySelector("[data-line-product]");
    if (first) first.focus();
  });
})();
