"""The patient's forms, one module per page family. They check shape; the services decide
what may be recorded."""
