// The admin's autocomplete boxes (select2) name their text part after the field's label: select2
// gives it role="textbox" with no name of its own, which screen readers announce as unlabelled.
"use strict";
window.addEventListener("load", function () {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
        const label = document.querySelector('label[for="' + select.id + '"]');
        const rendered = document.getElementById("select2-" + select.id + "-container");
        if (label && rendered) {
            rendered.setAttribute("aria-label", label.textContent.replace(/:\s*$/, "").trim());
        }
    });
});
