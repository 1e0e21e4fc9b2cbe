"""The execution engine (DESIGN §6): every node one task; the database decides joins."""

from executions_app.engine.run import run_node

__all__ = ["run_node"]
