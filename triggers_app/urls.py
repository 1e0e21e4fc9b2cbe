from django.urls import path

from triggers_app import apis, schedule_apis

urlpatterns = [
    path("triggers/webhooks", apis.WebhookListCreateApi.as_view(), name="webhook-list"),
    path("triggers/webhooks/<uuid:pk>", apis.WebhookDetailApi.as_view(), name="webhook-detail"),
    path("triggers/webhooks/<uuid:pk>/rotate-token", apis.WebhookRotateTokenApi.as_view(), name="webhook-rotate-token"),
    path(
        "triggers/webhooks/<uuid:pk>/rotate-secret", apis.WebhookRotateSecretApi.as_view(), name="webhook-rotate-secret"
    ),
    path("triggers/webhooks/<uuid:pk>/revoke", apis.WebhookRevokeApi.as_view(), name="webhook-revoke"),
    path("triggers/webhooks/<uuid:pk>/deliveries", apis.DeliveryListApi.as_view(), name="webhook-deliveries"),
    path(
        "triggers/webhooks/<uuid:pk>/deliveries/<uuid:delivery_id>",
        apis.DeliveryDetailApi.as_view(),
        name="webhook-delivery",
    ),
    path("triggers/webhooks/<uuid:pk>/test", apis.WebhookTestApi.as_view(), name="webhook-test"),
    path(
        "triggers/webhooks/<uuid:pk>/deliveries/<uuid:delivery_id>/replay",
        apis.DeliveryReplayApi.as_view(),
        name="webhook-delivery-replay",
    ),
    path("triggers/schedules", schedule_apis.ScheduleListCreateApi.as_view(), name="schedule-list"),
    path("triggers/schedules/<uuid:pk>", schedule_apis.ScheduleDetailApi.as_view(), name="schedule-detail"),
    path("triggers/schedules/<uuid:pk>/pause", schedule_apis.SchedulePauseApi.as_view(), name="schedule-pause"),
    path("triggers/schedules/<uuid:pk>/resume", schedule_apis.ScheduleResumeApi.as_view(), name="schedule-resume"),
    path("triggers/schedules/<uuid:pk>/run", schedule_apis.ScheduleRunApi.as_view(), name="schedule-run"),
    path("triggers/schedules/<uuid:pk>/ticks", schedule_apis.TickListApi.as_view(), name="schedule-ticks"),
]
