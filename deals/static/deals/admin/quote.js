/* Quoting by selection on a source's change page (see deals/admin/quoting.py).
 *
 * The text is rendered as <span data-offset="N"> pieces (deals.editing.source_text_highlight), N being the offset
 * of the piece's first character in the stored text, counted in code points as Python does. A selection's two
 * ends are turned back into offsets from those spans, so the quote is exactly the stored text between them: no
 * copy, no search. Suggested passages carry their offsets and open the same panel.
 *
 * The panel is posted with fetch() asking for JSON, so a quote for an existing record is saved without leaving
 * the page: the passage is then highlighted like a saved quote and the suggestions it overlaps are dropped. A
 * new record's add page is opened from the address the view answers. Without JavaScript the form posts as usual.
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
    const status = panel.querySelector(".quote-status");
    const cancel = panel.querySelector(".quote-cancel");
    let pieces = Array.from(root.querySelectorAll("[data-offset]"));
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

    function say(message, kind) {
      status.textContent = message;
      status.className = "quote-status " + kind;
      status.hidden = !message;
    }

    function open(start, end) {
      startInput.value = String(start);
      endInput.value = String(end);
      preview.textContent = textBetween(start, end);
      say("", "");
      panel.classList.remove("quote-done");
      cancel.textContent = "Cancel";
      panel.hidden = false;
      labelSubmit();
    }

    // Split a piece so that a new piece starts at `at` (a code point offset strictly inside it).
    function splitPiece(piece, at) {
      const first = Number(piece.dataset.offset);
      const chars = Array.from(piece.textContent);
      const tail = piece.cloneNode(false);
      tail.dataset.offset = String(at);
      tail.textContent = chars.slice(at - first).join("");
      piece.textContent = chars.slice(0, at - first).join("");
      // A piece inside a saved quote's <mark>/<a> stays inside it: the tail is its next sibling.
      piece.after(tail);
    }

    // Highlight [start, end) as a saved quote (as deals.editing.source_text_highlight would after a reload).
    function markQuoted(start, end, title, url) {
      for (const piece of pieces) {
        const first = Number(piece.dataset.offset);
        const last = first + codePoints(piece.textContent);
        if (first < start && start < last) {
          splitPiece(piece, start);
        }
      }
      pieces = Array.from(root.querySelectorAll("[data-offset]"));
      for (const piece of pieces) {
        const first = Number(piece.dataset.offset);
        const last = first + codePoints(piece.textContent);
        if (first < end && end < last) {
          splitPiece(piece, end);
        }
      }
      pieces = Array.from(root.querySelectorAll("[data-offset]"));
      for (const piece of pieces) {
        const first = Number(piece.dataset.offset);
        if (first < start || first >= end) {
          continue;
        }
        const outer = piece.closest("mark");
        if (outer) {
          // Already inside a saved quote: it now also backs this record.
          outer.title = outer.title ? outer.title + "; " + title : title;
          continue;
        }
        const mark = document.createElement("mark");
        mark.title = title;
        mark.className = "quote-just-saved";
        const link = document.createElement("a");
        link.href = url;
        piece.replaceWith(mark);
        link.appendChild(piece);
        mark.appendChild(link);
      }
      pieces = Array.from(root.querySelectorAll("[data-offset]"));
      document.querySelectorAll(".quote-suggestion").forEach(function (button) {
        if (Number(button.dataset.start) < end && start < Number(button.dataset.end)) {
          button.closest("li").remove();
        }
      });
    }

    panel.addEventListener("submit", function (event) {
      if (!window.fetch) {
        return; // the plain form POST
      }
      event.preventDefault();
      submit.disabled = true;
      say("Saving…", "quote-pending");
      fetch(panel.action, {
        method: "POST",
        body: new FormData(panel),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response
            .json()
            .catch(function () {
              return { error: "Nothing was quoted: the server answered " + response.status + "." };
            })
            .then(function (body) {
              return { ok: response.ok, body: body };
            });
        })
        .then(function (answer) {
          submit.disabled = false;
          if (answer.ok && answer.body.add_url) {
            window.location.assign(answer.body.add_url);
            return;
          }
          if (!answer.ok) {
            say(answer.body.error, "errornote");
            return;
          }
          const saved = answer.body;
          markQuoted(saved.start, saved.end, saved.record.type + ": " + saved.record.label, saved.record.url);
          window.getSelection().removeAllRanges();
          // The panel starts afresh, as after a reload: a record left chosen would silently take the next quote,
          // even one meant to start a new record.
          panel.querySelectorAll(".quote-fields input[type='checkbox']").forEach(function (box) {
            box.checked = false;
          });
          panel.querySelector("[name='quote-note']").value = "";
          panel.querySelectorAll(".quote-kind select").forEach(function (select) {
            select.value = "";
            if (window.django && window.django.jQuery) {
              window.django.jQuery(select).val(null).trigger("change");
            }
          });
          labelSubmit();
          say(saved.message, "quote-saved");
          // Shrunk to the passage and the message, so that the new highlight is not hidden behind the panel.
          panel.classList.add("quote-done");
          cancel.textContent = "Close";
        })
        .catch(function () {
          submit.disabled = false;
          say("Nothing was quoted: the server could not be reached. Try again.", "errornote");
        });
    });

    // On the document, not the text: the panel stays open after a quote is saved and may cover the end of the
    // next drag. A click inside the panel leaves the selection as it was, so it does not reset the panel.
    document.addEventListener("mouseup", function () {
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
      const same = !panel.hidden && startInput.value === String(start) && endInput.value === String(end);
      if (end > start && !same) {
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
    cancel.addEventListener("click", function () {
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
