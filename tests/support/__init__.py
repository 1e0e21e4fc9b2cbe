"""What the tests share. Helpers are imported from here; fixtures come from
tests/support/fixtures through the root conftest's `pytest_plugins`.

- definitions.py: workflow definition builders (node, edge, input_node), ready-made
  definitions, definition problems
- factories.py: factory-boy factories (users, API keys, workflows)
- api.py: API clients (anonymous JSON, JWT, API key) and error codes
- executions.py: reading executions, node runs and event streams
- ai_nodes.py: AI-node workflows and what their runs recorded
- http_nodes.py: HTTP_REQUEST workflows, and a credential they send
- emulator.py: the provider emulator's control API and the fake provider keys
- node_ports.py: fakes of the ports a node type is given (workflows_app/nodes/ports.py)
- expressions.py: evaluate/render one expression
- http_server.py: the HTTP test server; guarded_http.py: a recording resolver/connect
- web_server.py: the Procfile's gunicorn; launcher.py: what the `make run` test reads
- workers.py: worker processes and threads, wait_for, the session database URL
- redis.py: a Redis server of a test's own
- markers.py: require_marker, which fails an unmarked test that starts a worker or server
- session_env.py: the -p plugin that sets up this session's id and embedded Redis
- failing_urls.py, slow_missing.py: modules named by dotted path (ROOT_URLCONF, a lazy import)
"""
