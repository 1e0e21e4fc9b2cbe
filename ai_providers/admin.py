from collections.abc import Callable

from django.contrib import admin

from ai_providers.models import ModelPrice, ProviderQuota, ProviderRoute
from ai_providers.overrides import forget_admin_overrides
from ai_providers.router import forget_admin_routes


class _ForgetsCachedRowsOnWrite(admin.ModelAdmin):
    """Every write, list_editable and bulk delete included, forgets the cached rows so every
    worker reads the new ones at its next call."""

    forget: Callable[[], None]  # a staticmethod

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        self.forget()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        self.forget()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        self.forget()


@admin.register(ProviderRoute)
class ProviderRouteAdmin(_ForgetsCachedRowsOnWrite):
    forget = staticmethod(forget_admin_routes)
    list_display = ("task_type", "chain", "enabled", "updated_at")
    list_editable = ("enabled",)


@admin.register(ModelPrice)
class ModelPriceAdmin(_ForgetsCachedRowsOnWrite):
    forget = staticmethod(forget_admin_overrides)
    list_display = ("provider", "model", "input_usd_per_million", "output_usd_per_million", "updated_at")
    list_editable = ("input_usd_per_million", "output_usd_per_million")
    list_filter = ("provider",)
    search_fields = ("model",)


@admin.register(ProviderQuota)
class ProviderQuotaAdmin(_ForgetsCachedRowsOnWrite):
    forget = staticmethod(forget_admin_overrides)
    list_display = ("provider", "rpm", "tpm", "rpd", "tpd", "enabled", "updated_at")
    list_editable = ("rpm", "tpm", "rpd", "tpd", "enabled")
