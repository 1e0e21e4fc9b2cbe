"""Human decisions on waiting APPROVAL nodes: the owner's decision (decisions.py), the
inbox of what waits for a user (inbox.py), and signed single-use links for people
without an account (links.py). Every decision wakes the node through the same fenced
wake (engine/wakes.wake_node), so a node is decided exactly once."""
