from django.urls import path

from ai_providers.apis import ProviderStatusApi, ProviderTestApi

urlpatterns = [
    path("test-ai", ProviderTestApi.as_view(), name="ai-providers-test"),
    path("ai-status", ProviderStatusApi.as_view(), name="ai-providers-status"),
]
