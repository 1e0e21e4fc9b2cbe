from django.contrib import admin

from ai_providers.models import ProviderRoute
from ai_providers.router import forget_admin_routes


@admin.register(ProviderRoute)
class ProviderRouteAdmin(admin.ModelAdmin):
    list_display = ("task_type", "chain", "enabled", "updated_at")
    list_editable = ("enabled",)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        forget_admin_routes()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        forget_admin_routes()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        forget_admin_routes()
