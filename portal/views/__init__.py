"""The patient's pages, one module per page family. Views stay thin: a scoped lookup, a form,
one service call, a message, a redirect."""
