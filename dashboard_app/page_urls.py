"""Routes at the site root: the HTML dashboard, its charts and login, and /metrics."""

from django.urls import path
from django.views.generic import RedirectView

from accounts_app.throttles import login_form_throttled
from dashboard_app import pages

urlpatterns = [
    # Someone opening the server in a browser lands on the dashboard (or its login).
    path("", RedirectView.as_view(url="/dashboard/", permanent=False), name="home"),
    path("dashboard/", pages.dashboard_page, name="dashboard"),
    path("dashboard/login", login_form_throttled(pages.DashboardLoginView.as_view()), name="dashboard-login"),
    path("dashboard/logout", pages.DashboardLogoutView.as_view(), name="dashboard-logout"),
    path("dashboard/charts/<slug:name>.svg", pages.chart_svg, name="dashboard-chart"),
    path("metrics", pages.prometheus_metrics, name="prometheus-metrics"),
    # Browsers ask every page of the site (the admin's too) for it.
    path("favicon.ico", pages.favicon, name="favicon"),
]
