"""Pages outside the JSON API: the HTML dashboard, its SVG charts, and the Prometheus
scrape endpoint."""

from __future__ import annotations

import hmac
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from core.api import error_body
from dashboard_app import charts, counters, selectors
from dashboard_app.collector import registry_for
from dashboard_app.reports import scope_owner

LOGIN_URL = "/dashboard/login"
FAVICON = Path(__file__).resolve().parent / "static" / "dashboard_app" / "favicon.svg"
REFRESH_MS = 5000


@never_cache
@login_required(login_url=LOGIN_URL)
def dashboard_page(request: HttpRequest) -> HttpResponse:
    context = {"flower_url": settings.SWITCHBOARD_FLOWER_URL, "refresh_ms": REFRESH_MS}
    return render(request, "dashboard_app/dashboard.html", context)


class DashboardLoginView(auth_views.LoginView):
    """For every user; staff can also sign in through /admin/login/."""

    template_name = "dashboard_app/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return "/dashboard/"


class DashboardLogoutView(auth_views.LogoutView):
    next_page = LOGIN_URL


def _hour_label(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%H:00")


def _bound_label(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    return f"{seconds:g}s" if seconds < 60 else (f"{seconds / 60:g}m" if seconds < 3600 else f"{seconds / 3600:g}h")


@never_cache
@login_required(login_url=LOGIN_URL)
@require_GET
def chart_svg(request: HttpRequest, name: str) -> HttpResponse:
    owner_id, now = scope_owner(request.user), timezone.now()
    if name == "executions":
        series = selectors.hourly_series(owner_id=owner_id, now=now)
        labels = [_hour_label(hour) for hour in series["hours"]]
        svg = charts.stacked_bars("Executions per hour (UTC), last 24 h", labels, series["by_status"])
    elif name == "durations":
        bounds = counters.DURATION_BUCKETS_S
        cumulative = selectors.duration_buckets(owner_id=owner_id, now=now, bounds_s=bounds)
        per_bucket = [cumulative[0]] + [cumulative[i] - cumulative[i - 1] for i in range(1, len(cumulative))]
        labels = [_bound_label(bound) for bound in bounds] + [f">{_bound_label(bounds[-1])}"]
        svg = charts.bars("Execution durations, last 24 h (each bar counts runs up to its label)", labels, per_bucket)
    else:
        raise Http404("No such chart.")
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(FAVICON.read_bytes(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _metrics_token_ok(request: HttpRequest) -> bool:
    token = settings.SWITCHBOARD_METRICS_TOKEN
    if not token:
        return True  # open unless a token is configured (README "Monitoring")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@never_cache
@require_GET
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text exposition of the platform's series, read at scrape time."""
    if not _metrics_token_ok(request):
        response = JsonResponse(
            error_body("authentication_failed", "A valid 'Authorization: Bearer <metrics token>' is required."),
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(registry_for()), content_type=CONTENT_TYPE_LATEST)
