// The admin's autocomplete boxes (select2) name their text part after the field's label: select2
// gives it role="textbox" with no name of its own, which screen readers announce as unlabelled.
// select2 builds the box in a jQuery "ready" handler, which may run after the page's load event,
// so the names are given whenever a box appears (a MutationObserver), not once at load.
"use strict";
(function () {
    function nameBoxes() {
        document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
            const rendered = document.getElementById("select2-" + select.id + "-container");
            if (!rendered || rendered.hasAttribute("aria-label")) {
                return;
            }
            const label = document.querySelector('label[for="' + select.id + '"]');
            if (label) {
                rendered.setAttribute("aria-label", label.textContent.replace(/:\s*$/, "").trim());
            }
        });
    }
    document.addEventListener("DOMContentLoaded", function () {
        nameBoxes();
        new MutationObserver(nameBoxes).observe(document.body, {childList: true, subtree: true});
    });
    window.addEventListener("load", nameBoxes);
})();
