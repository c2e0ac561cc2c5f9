// Accessibility repairs to Swagger UI's markup, made as it renders (it re-renders on every
// expand): the operation groups and "Schemas" are second-level headings under the API's title
// (Swagger UI writes them as h3 and h4 after an h1), and the title and description above the
// operations are a named region (its operations are already in a <main>).
"use strict";
(function () {
    function repair() {
        document.querySelectorAll("h3.opblock-tag:not([aria-level]), section.models > h4:not([aria-level])")
            .forEach(function (heading) {
                heading.setAttribute("role", "heading");
                heading.setAttribute("aria-level", "2");
            });
        document.querySelectorAll(".opblock .opblock-title:not([aria-level]), .opblock .opblock-section-header h4:not([aria-level])")
            .forEach(function (heading) {
                heading.setAttribute("role", "heading");
                heading.setAttribute("aria-level", "3");
            });
        // Each operation's responses are a region: name it after the operation.
        document.querySelectorAll(".opblock [id$='_responses']:not([aria-label])").forEach(function (section) {
            const block = section.closest(".opblock");
            const method = block && block.querySelector(".opblock-summary-method");
            const path = block && block.querySelector(".opblock-summary-path");
            if (method && path) {
                section.setAttribute("aria-label", "Responses of " + method.textContent + " " + path.dataset.path);
            }
        });
        // Examples that scroll sideways can be reached by keyboard.
        document.querySelectorAll(".highlight-code .microlight:not([tabindex])").forEach(function (code) {
            code.setAttribute("tabindex", "0");
        });
        // Parameter fields are named after their parameter (Swagger UI shows the name beside
        // them, unlabelled).
        document.querySelectorAll("tr[data-param-name]").forEach(function (row) {
            row.querySelectorAll("input:not([aria-label]), select:not([aria-label]), textarea:not([aria-label])")
                .forEach(function (field) {
                    field.setAttribute("aria-label", row.dataset.paramName + " (" + row.dataset.paramIn + ")");
                });
        });
        // The Authorize dialog: a named dialog with a named close button.
        document.querySelectorAll(".modal-ux:not([role])").forEach(function (dialog) {
            dialog.setAttribute("role", "dialog");
            dialog.setAttribute("aria-modal", "true");
            dialog.setAttribute("aria-label", "Available authorizations");
        });
        document.querySelectorAll(".modal-ux-header h3:not([aria-level])").forEach(function (heading) {
            heading.setAttribute("role", "heading");
            heading.setAttribute("aria-level", "2");
        });
        document.querySelectorAll(".modal-ux-content h4:not([aria-level])").forEach(function (heading) {
            heading.setAttribute("role", "heading");
            heading.setAttribute("aria-level", "3");
        });
        document.querySelectorAll("button.close-modal:not([aria-label])").forEach(function (button) {
            button.setAttribute("aria-label", "Close");
        });
        document.querySelectorAll(".information-container:not([role])").forEach(function (about) {
            about.setAttribute("role", "region");
            about.setAttribute("aria-label", "About the API");
        });
    }
    new MutationObserver(repair).observe(document.getElementById("swagger-ui"), {childList: true, subtree: true});
})();
