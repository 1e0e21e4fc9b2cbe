"""The executions admin: how executions and node runs read on the list and change pages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_admin_index_names_the_apps_in_words(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "Executions" in page
    assert "Workflows" in page
    assert "Executions_App" not in page
    assert "EXECUTIONS_APP" not in page
    assert "Workflows_App" not in page
