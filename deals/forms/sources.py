"""``SourceAdminForm``: adding a source by pasting or uploading its text, which is stored as received and hashed."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from deals import models
from deals.editing import source_upload_prepare
from deals.forms.fields import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_MB,
)
from deals.models.source import SOURCE_METADATA_FIELDS


class SourceAdminForm(forms.ModelForm):
    """Add a source by pasting its text or uploading the file; the text is normalised like the loader's.

    The stored text never changes after creation, because evidence offsets index into it: the change page shows
    it read-only (with its quotes highlighted) and these two inputs only appear on the add page.
    """

    pasted_text = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "cols": 100}),
        help_text=f"Paste the article's full text here (at most {MAX_UPLOAD_MB} MB), or upload the file below "
        "(not both).",
    )
    upload = forms.FileField(
        required=False,
        help_text=f"A UTF-8 text file of the article, exactly as received (at most {MAX_UPLOAD_MB} MB).",
    )

    class Meta:
        model = models.Source
        fields = ["slug", *SOURCE_METADATA_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The text is frozen once stored; see the class docstring.
            self.fields.pop("pasted_text", None)
            self.fields.pop("upload", None)

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            return cleaned
        if "pasted_text" in self.errors or "upload" in self.errors:
            # The input itself was refused (e.g. Django's own "Null characters are not allowed."); say only that.
            return cleaned
        pasted = cleaned.get("pasted_text") or ""
        upload = cleaned.get("upload")
        if pasted.strip() and upload:
            raise ValidationError({"upload": "Paste the text or upload a file, not both."})
        if upload:
            if upload.size > MAX_UPLOAD_BYTES:
                raise ValidationError({"upload": f"The file is larger than {MAX_UPLOAD_MB} MB."})
            raw = upload.read()
            target = "upload"
            if not cleaned.get("original_filename"):
                cleaned["original_filename"] = upload.name[:255]
        elif pasted.strip():
            raw = pasted.encode("utf-8")
            target = "pasted_text"
            if len(raw) > MAX_UPLOAD_BYTES:
                raise ValidationError({"pasted_text": f"The pasted text is larger than {MAX_UPLOAD_MB} MB."})
        else:
            raise ValidationError({"pasted_text": "Paste the article's text or upload its file."})
        try:
            prepared = source_upload_prepare(raw=raw)
        except ValidationError as exc:
            raise ValidationError({target: exc.messages}) from exc
        # Set before _post_clean so that model validation (digest format, unique raw_sha256) sees them.
        self.instance.text = prepared.text
        self.instance.raw_sha256 = prepared.raw_sha256
        self.instance.text_sha256 = prepared.text_sha256
        return cleaned

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        # The digests are not form fields but are set by clean(); validating them keeps a duplicate document a
        # form error even if another editor stored it a moment earlier. Only once clean() has set them: when the
        # text was refused, the input field already says why, and "This field cannot be blank." three times over
        # would only bury that.
        if self.instance.text:
            exclusions.discard("raw_sha256")
            exclusions.discard("text_sha256")
            exclusions.discard("text")
        return exclusions

    def _update_errors(self, errors):
        # Errors on the computed fields belong to the input they came from.
        if hasattr(errors, "error_dict"):
            input_field = "upload" if self.cleaned_data.get("upload") else "pasted_text"
            for name in ("raw_sha256", "text_sha256", "text"):
                if name in errors.error_dict:
                    moved = errors.error_dict.pop(name)
                    key = input_field if input_field in self.fields else NON_FIELD_ERRORS
                    errors.error_dict.setdefault(key, []).extend(moved)
        super()._update_errors(errors)
