"""Fakes of the outside world (Telegram, Parliament, X...), the harness that drives the real
Application, and the crash suite machinery; shared by the tests and by bench/."""
