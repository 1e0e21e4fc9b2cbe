from django.urls import path

from accounts_app import apis

urlpatterns = [
    path("register", apis.RegisterApi.as_view(), name="auth-register"),
    path("login", apis.LoginApi.as_view(), name="auth-login"),
    path("refresh", apis.RefreshApi.as_view(), name="auth-refresh"),
    path("logout", apis.LogoutApi.as_view(), name="auth-logout"),
    path("me", apis.MeApi.as_view(), name="auth-me"),
    path("password", apis.PasswordChangeApi.as_view(), name="auth-password"),
    path("api-keys", apis.ApiKeyListCreateApi.as_view(), name="auth-api-keys"),
    path("api-keys/<int:api_key_id>", apis.ApiKeyRevokeApi.as_view(), name="auth-api-key"),
]
