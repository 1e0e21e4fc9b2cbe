"""Record collections: the DATABASE node's JSON documents, one table for every user's."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Record(models.Model):
    """One document of one of a user's record collections."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="records")
    collection = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "executions_app_record"  # the table it had before the app of its own
        ordering = ["id"]
        indexes = [models.Index(fields=["owner", "collection", "id"], name="record_owner_collection")]

    def __str__(self) -> str:
        return f"{self.collection}/{self.id}"
