"""The application layer: settings, start-up wiring and the command-line tools that put the parts together."""
