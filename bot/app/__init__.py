"""The front door: the Application, the CLI, the offline console and process-level services.

The only part of `bot/` that may import `handlers`, `scheduler` and `messages`.
"""
