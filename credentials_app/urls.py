from django.urls import path

from credentials_app import apis

urlpatterns = [
    path("credentials", apis.CredentialListCreateApi.as_view(), name="credential-list"),
    path("credentials/<uuid:pk>", apis.CredentialDetailApi.as_view(), name="credential-detail"),
]
