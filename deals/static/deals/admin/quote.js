/* Quoting by selection on a source's change page (see deals/admin/quoting.py).
 *
 * The text is rendered as <span data-offset="N"> pieces (deals.editing.source_text_highlight), N being the offset
 * of the piece's first character in the stored text, counted in code points as Python does. A selection's two
 * ends are turned back into offsets from those spans, so the quote is exactly the stored text between them: no
 * copy, no search. Suggested passages carry their offsets and open the same panel.
 */
(function () {
  "use strict";

  function codePoints(text) {
    return Array.from(text).length;
  }

  function init() {
    const root = document.querySelector(".source-text");
    const panel = document.getElementById("quote-form");
    if (!root || !panel) {
      return;
    }
    const startInput = panel.querySelector("input[name='quote-start']");
    const endInput = panel.querySelector("input[name='quote-end']");
    const preview = panel.querySelector(".quote-preview");
    const submit = panel.querySelector(".quote-submit");
    const pieces = Array.from(root.querySelectorAll("[data-offset]"));
    const length = Number(root.dataset.length);

    // The offset of a boundary point (node, offset) of a selection inside the text.
    function pointOffset(node, offset) {
      if (node.nodeType === Node.TEXT_NODE && node.parentElement && node.parentElement.dataset.offset !== undefined) {
        return Number(node.parentElement.dataset.offset) + codePoints(node.data.slice(0, offset));
      }
      // An element boundary (a triple click, a selection starting in a margin): the first piece at or after it.
      const point = document.createRange();
      point.setStart(node, offset);
      for (const piece of pieces) {
        if (piece.firstChild && point.comparePoint(piece.firstChild, 0) >= 0) {
          return Number(piece.dataset.offset);
        }
      }
      return length;
    }

    function textBetween(start, end) {
      let out = "";
      for (const piece of pieces) {
        const first = Number(piece.dataset.offset);
        const chars = Array.from(piece.textContent);
        const last = first + chars.length;
        if (last <= start || first >= end) {
          continue;
        }
        out += chars.slice(Math.max(start - first, 0), Math.min(end, last) - first).join("");
      }
      return out;
    }

    function kindChanged() {
      const kind = panel.querySelector("input[name='quote-target']:checked").value;
      panel.querySelectorAll(".quote-kind").forEach(function (box) {
        box.hidden = box.dataset.kind !== kind;
      });
      labelSubmit();
    }

    function labelSubmit() {
      const kind = panel.querySelector("input[name='quote-target']:checked").value;
      const record = panel.querySelector("select[name='quote-" + kind + "']");
      submit.value = record && record.value ? "Add the quote to this " + kind : "Start a new " + kind + " with it";
    }

    function open(start, end) {
      startInput.value = String(start);
      endInput.value = String(end);
      preview.textContent = textBetween(start, end);
      panel.hidden = false;
      labelSubmit();
    }

    root.addEventListener("mouseup", function () {
      const selection = window.getSelection();
      if (!selection || selection.rangeCount === 0 || selection.isCollapsed) {
        return;
      }
      const range = selection.getRangeAt(0);
      if (!root.contains(range.commonAncestorContainer)) {
        return;
      }
      const start = pointOffset(range.startContainer, range.startOffset);
      const end = pointOffset(range.endContainer, range.endOffset);
      if (end > start) {
        open(start, end);
      }
    });
    document.querySelectorAll(".quote-suggestion").forEach(function (button) {
      button.addEventListener("click", function () {
        open(Number(button.dataset.start), Number(button.dataset.end));
      });
    });
    panel.querySelectorAll("input[name='quote-target']").forEach(function (radio) {
      radio.addEventListener("change", kindChanged);
    });
    panel.querySelectorAll(".quote-kind select").forEach(function (select) {
      select.addEventListener("change", labelSubmit);
      // select2 reports its choice through jQuery events only.
      if (window.django && window.django.jQuery) {
        window.django.jQuery(select).on("change.select2 select2:select select2:clear", labelSubmit);
      }
    });
    panel.querySelector(".quote-cancel").addEventListener("click", function () {
      panel.hidden = true;
    });
    kindChanged();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
