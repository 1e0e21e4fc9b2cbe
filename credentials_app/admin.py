"""Admin for credentials: values are write-only, written through the same services as the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from credentials_app.models import Credential
from credentials_app.services import credential_create, credential_update

# ModelForm and ModelAdmin are generic in django-stubs only; at run time they take no type argument.
if TYPE_CHECKING:
    _CredentialModelForm = forms.ModelForm[Credential]
    _CredentialModelAdmin = admin.ModelAdmin[Credential]
else:
    _CredentialModelForm = forms.ModelForm
    _CredentialModelAdmin = admin.ModelAdmin


def may_write_credentials_of(editor: Any, owner: Any) -> bool:
    return editor is not None and (editor.is_superuser or editor.pk == owner.pk)


class CredentialAdminForm(_CredentialModelForm):
    value = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Write-only: never shown again. Leave empty to keep the stored value.",
    )

    class Meta:
        model = Credential
        fields = ["owner", "name", "description"]

    # The signed-in user, set per request by CredentialAdmin.get_form.
    editor: Any = None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns
        if self.instance._state.adding and not data.get("value"):
            self.add_error("value", "A new credential needs a value.")
        owner = data.get("owner") if self.instance._state.adding else self.instance.owner
        if owner is not None and not may_write_credentials_of(self.editor, owner):
            # A value of one's own under a name the owner's workflow sends would route the
            # owner's data to one's own account: only the owner or a superuser writes here.
            self.add_error(
                None, f"Only {owner.get_username()} or a superuser can write {owner.get_username()}'s credentials."
            )
        owner_id = data["owner"].pk if data.get("owner") else self.instance.owner_id
        name_taken = Credential.objects.filter(owner_id=owner_id, name=data.get("name")).exclude(pk=self.instance.pk)
        if owner_id and name_taken.exists():
            self.add_error("name", "This owner already has a credential with this name.")
        return data


@admin.register(Credential)
class CredentialAdmin(_CredentialModelAdmin):
    """The encrypted value is never displayed; a new one can be written through the
    same services as the API."""

    form = CredentialAdminForm
    list_display = ["name", "owner", "description", "created_at", "updated_at"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    readonly_fields = ["created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Credential | None = None) -> list[str]:
        return [*self.readonly_fields, "owner"] if obj else self.readonly_fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        assert issubclass(form, CredentialAdminForm)  # a subclass of self.form made by modelform_factory
        form.editor = request.user  # a class made for this request
        return form

    def has_change_permission(self, request: HttpRequest, obj: Credential | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_write_credentials_of(request.user, obj.owner))

    def has_delete_permission(self, request: HttpRequest, obj: Credential | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_write_credentials_of(request.user, obj.owner))

    def save_model(self, request: HttpRequest, obj: Credential, form: CredentialAdminForm, change: bool) -> None:
        data = form.cleaned_data  # the form has checked the name is free
        if change:
            saved = credential_update(
                credential=obj,
                name=data["name"],
                description=data.get("description") or "",
                value=data["value"] or None,
            )
        else:
            saved = credential_create(
                user=data["owner"], name=data["name"], value=data["value"], description=data.get("description") or ""
            )
        obj.__dict__.update({key: value for key, value in saved.__dict__.items() if key != "_state"})
        obj._state.adding, obj._state.db = False, saved._state.db
