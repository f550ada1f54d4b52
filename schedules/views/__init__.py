"""Views: thin, one module per page group (the workspace's regimens and nurse actions)."""
