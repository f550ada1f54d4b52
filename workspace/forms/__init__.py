"""The workspace's forms, one module per page family. They check shape only; the services
decide what may be recorded."""
