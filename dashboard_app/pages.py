"""Routes at the site root: the HTML dashboard, its charts and login, and /metrics."""

from django.urls import path
from django.views.generic import RedirectView

from accounts_app.throttles import login_form_throttled
from dashboard_app import views

urlpatterns = [
    # Someone opening the server in a browser lands on the dashboard (or its login).
    path("", RedirectView.as_view(url="/dashboard/", permanent=False), name="home"),
    path("dashboard/", views.dashboard_page, name="dashboard"),
    path("dashboard/login", login_form_throttled(views.DashboardLoginView.as_view()), name="dashboard-login"),
    path("dashboard/logout", views.DashboardLogoutView.as_view(), name="dashboard-logout"),
    path("dashboard/charts/<slug:name>.svg", views.chart_svg, name="dashboard-chart"),
    path("metrics", views.prometheus_metrics, name="prometheus-metrics"),
    # Browsers ask every page of the site (the admin's too) for it.
    path("favicon.ico", views.favicon, name="favicon"),
]
