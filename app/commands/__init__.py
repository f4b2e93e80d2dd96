"""Command implementations, one module per `sessionrec` subcommand."""
