"""The execution engine (docs/architecture.md): every node one task; the database decides joins."""

from executions_app.engine.node_run import run_node

__all__ = ["run_node"]
