from django import forms
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency

from .models import ScoreWeights


class WeightsForm(forms.ModelForm):
    class Meta:
        model = ScoreWeights
        fields = ["on_time", "completion", "response", "response_target_minutes"]


class SupervisionForm(forms.Form):
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    owner = forms.ModelChoiceField(
        label=_("Owner unit"), queryset=Agency.objects.filter(is_member=True, is_active=True), to_field_name="code"
    )
    deadline = forms.DateTimeField(label=_("Deadline"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Progress"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class CloseForm(forms.Form):
    evidence = forms.CharField(label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    document_number = forms.CharField(label=_("Document number"), max_length=64, required=False)
