from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.reviews.constants import Grade
from apps.reviews.services import COMMENT_MAX


class RatingForm(forms.Form):
    grade = forms.ChoiceField(label=_("满意度"), choices=Grade.choices, widget=forms.RadioSelect)
    options = forms.MultipleChoiceField(label=_("评价指标"), required=False, choices=())
    comment = forms.CharField(
        label=_("文字评价（选填）"), required=False, max_length=COMMENT_MAX, widget=forms.Textarea
    )
    is_anonymous = forms.BooleanField(label=_("匿名展示"), required=False, initial=True)

    def __init__(self, *args: object, option_codes: list[str] | None = None, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["options"].choices = [(c, c) for c in option_codes or []]
