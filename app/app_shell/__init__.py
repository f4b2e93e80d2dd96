"""The desktop app's shell: the composition root (`application.py`) and the parts of the app
that are not widgets — the recording controller, start-up work, the local test bucket and its
child process (`python -m app.app_shell.demo_child`)."""
