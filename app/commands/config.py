"""`sessionrec config show | set KEY=VALUE... | test`.

Secrets (`secretAccessKey`, `sessionToken`, `backendToken`, `webhookSecret`) are best set
with the name alone:
`sessionrec config set secretAccessKey` asks for the value without echo on a terminal, or reads
one line from standard input otherwise (`... | sessionrec config set secretAccessKey`), as
`docker login --password-stdin` does, so the secret never appears in the process list or the
shell history. `secretAccessKey=VALUE` still works, with a warning. No message ever repeats
any part of what was typed for a secret: an argument that is not KEY=VALUE is never echoed.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import sys
from typing import Any

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandContext, disk_sentence, fail

SECRET_KEYS = ("secretAccessKey", "sessionToken", "backendToken", "webhookSecret")
MAX_SECRET_CHARS = 4096
ARGV_WARNING = ("Note: a secret typed as KEY=VALUE is visible in the process list while the "
                "command runs and may stay in the shell history; next time give the name alone "
                "(sessionrec config set secretAccessKey) and type it when asked, or pipe it in.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    sub.add_parser("show", help="print the settings (secrets masked)")
    set_parser = sub.add_parser(
        "set", help="change settings, e.g. bucket=my-bucket region=eu-west-1; "
                    "`set secretAccessKey` (no value) asks for the secret")
    set_parser.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    sub.add_parser("test", help="check the bucket (or backend) can be reached with these settings")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from app.logs import setup_logging

    setup_logging(ctx.data_dir)
    if args.config_action == "show":
        return _show(ctx)
    if args.config_action == "set":
        return _set(ctx, args.assignments)
    return _test(ctx)


def _fields() -> dict[str, dataclasses.Field[Any]]:
    from app.jsonrecord import to_camel
    from app.upload.config import UploadConfig

    return {to_camel(f.name): f for f in dataclasses.fields(UploadConfig)}


def _show(ctx: CommandContext) -> int:
    from app.upload.config import load_config, validate_config
    from app.upload.secrets import load_secrets, storage_warning

    loaded = load_config(ctx.data_dir)
    if loaded.problem:
        return fail(f"the settings cannot be read: {loaded.problem}.", EXIT_USAGE)
    out: dict[str, Any] = {}
    if loaded.value is not None:
        full = {**{k: None for k in _fields()}, **loaded.value.to_json()}
        out.update(full)
    secrets = load_secrets(ctx.data_dir)
    out["secretAccessKey"] = "****" if secrets.secret_access_key else None
    out["sessionToken"] = "****" if secrets.session_token else None
    out["backendToken"] = "****" if secrets.backend_token else None
    out["webhookSecret"] = "****" if secrets.webhook_secret else None
    out["secretStorage"] = secrets.storage
    print(json.dumps(out, indent=2))
    warning = storage_warning(ctx.data_dir)
    if warning:
        print(f"Note: {warning}", file=sys.stderr)
    if loaded.value is None:
        print("No settings yet; set at least bucket and region with `sessionrec config set`.",
              file=sys.stderr)
    else:
        for field, sentence in validate_config(loaded.value).items():
            print(f"{field}: {sentence}", file=sys.stderr)
    return EXIT_OK


def _parse_value(key: str, raw: str) -> Any:
    """Turn the text after '=' into the field's type; '' clears an optional field."""
    field = _fields()[key]
    hint = str(field.type)
    optional = "None" in hint
    if raw == "" and optional:
        return None
    if hint.startswith("dict"):
        from app.upload.s3.object_options import parse_tags

        return parse_tags(raw)
    if hint.startswith("int"):
        return _whole_number(raw)
    if hint.startswith("float"):
        return float(raw)  # inf and nan parse; validate_config refuses them with a sentence
    if hint.startswith("bool"):
        lowered = raw.lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise ValueError("expected true or false")
    return raw


def _not_an_assignment(index: int, item: str, fields: dict[str, Any]) -> str:
    # Never echoed: it may be a secret typed without its name, or `secretAccessKey:VALUE`.
    if item in fields:
        return f"{item} needs a value: {item}=VALUE."
    return (f"Argument {index} is not KEY=VALUE (it is not shown, as it may hold a secret); "
            "to set a secret, give its name alone, e.g. `sessionrec config set secretAccessKey`.")


def _not_a_setting(index: int, key: str, fields: dict[str, Any]) -> str:
    # The part before '=' is not echoed either (a secret may contain '='); a close match is.
    known = [*fields, *SECRET_KEYS]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"Argument {index} does not name a setting; {hint}settings are: {', '.join(known)}."


def _read_secret(name: str) -> str | None:
    """The value of one secret: a prompt without echo on a terminal, else one line of stdin."""
    import getpass

    stdin = sys.stdin
    try:
        if stdin is not None and stdin.isatty():
            return getpass.getpass(f"{name}: ")
        line = stdin.readline(MAX_SECRET_CHARS + 2) if stdin is not None else ""
    except (EOFError, KeyboardInterrupt, OSError, ValueError):
        return None
    return line.rstrip("\r\n")


def _secret_problem(name: str, value: str) -> str | None:
    if len(value) > MAX_SECRET_CHARS:
        return f"The value for {name} is longer than {MAX_SECRET_CHARS} characters; nothing was changed."
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return f"The value for {name} contains control characters; nothing was changed."
    if value != value.strip():
        return f"The value for {name} starts or ends with spaces; nothing was changed."
    return None


def _whole_number(raw: str) -> int:
    if len(raw) > 40:
        raise ValueError("too long")
    try:
        return int(raw)
    except ValueError:
        number = float(raw)  # "1e10" is a whole number too
        if number != number or number in (float("inf"), float("-inf")) or not number.is_integer():
            raise ValueError("not a whole number") from None
        return int(number)


def _set(ctx: CommandContext, assignments: list[str]) -> int:
    from app.logs import register_secret
    from app.upload.config import UploadConfig, load_config, save_config, validate_config
    from app.upload.secrets import save_secrets

    fields = _fields()
    changes: dict[str, Any] = {}
    secret_changes: dict[str, str | None] = {}
    asked: list[str] = []
    on_command_line = False
    for index, item in enumerate(assignments, start=1):
        key, sep, raw = item.partition("=")
        if not sep:
            if item in SECRET_KEYS and item not in asked:
                asked.append(item)
                continue
            if index > 1 and assignments[index - 2] in SECRET_KEYS:
                return fail(f"{assignments[index - 2]} takes its value when asked (or on standard "
                            f"input), not as the next argument; argument {index} is not shown.",
                            EXIT_USAGE)
            return fail(_not_an_assignment(index, item, fields), EXIT_USAGE)
        if key in SECRET_KEYS:
            register_secret(raw)
            secret_changes[key] = raw or None
            on_command_line = on_command_line or bool(raw)
            continue
        if key not in fields:
            return fail(_not_a_setting(index, key, fields), EXIT_USAGE)
        try:
            changes[fields[key].name] = _parse_value(key, raw)
        except ValueError as exc:
            if str(fields[key].type).startswith("dict"):
                return fail(f"{key}: {exc}", EXIT_USAGE)
            return fail(f"{key} needs {_type_words(fields[key])}.", EXIT_USAGE)
    loaded = load_config(ctx.data_dir)
    if loaded.problem:
        return fail(f"the settings cannot be read: {loaded.problem}.", EXIT_USAGE)
    config: UploadConfig | None = None
    if changes:
        base: dict[str, Any] = dict(loaded.value.__dict__) if loaded.value else {"bucket": "", "region": ""}
        base.update(changes)
        config = UploadConfig(**base)
        problems = validate_config(config)
        # Only refuse for fields this command touched or that were never set; a half-made
        # config (bucket set, region still empty) can be completed in several calls.
        touched = {key for key in fields if fields[key].name in changes}
        relevant = {k: v for k, v in problems.items() if k in touched}
        if relevant:
            for field, sentence in relevant.items():
                print(f"sessionrec: {field}: {sentence}", file=sys.stderr)
            return EXIT_USAGE
    # Asked only once everything else is known to be fine, so a typo costs no typing.
    for name in asked:
        value = _read_secret(name)
        if not value:
            return fail(f"No value was given for {name}; nothing was changed.", EXIT_USAGE)
        register_secret(value)
        problem = _secret_problem(name, value)
        if problem:
            return fail(problem, EXIT_USAGE)
        secret_changes[name] = value
    if on_command_line:
        print(ARGV_WARNING, file=sys.stderr)
    try:
        if config is not None:
            save_config(ctx.data_dir, config)
    except OSError as exc:
        return fail(disk_sentence(exc, "the settings could not be saved (nothing was changed)"),
                    EXIT_FAILED)
    if secret_changes:
        try:
            storage = save_secrets(ctx.data_dir, **secret_changes)
        except OSError as exc:
            what = ("the secret could not be saved" + (" (the other settings were)" if config else ""))
            return fail(disk_sentence(exc, what), EXIT_FAILED)
        if storage == "file":
            from app.upload.secrets import FILE_WARNING

            print(f"Note: {FILE_WARNING}", file=sys.stderr)
    print("Settings saved.")
    return EXIT_OK


def _type_words(field: dataclasses.Field[Any]) -> str:
    hint = str(field.type)
    if hint.startswith("int"):
        return "a whole number"
    if hint.startswith("float"):
        return "a number"
    if hint.startswith("bool"):
        return "true or false"
    return "a value"


def _test(ctx: CommandContext) -> int:
    from app.upload.config import auto_upload_after_test, load_config, save_config
    from app.upload.destination import destination_for
    from app.upload.session.errors import UploadError

    loaded = load_config(ctx.data_dir)
    if loaded.value is None:
        return fail(loaded.problem or "there are no S3 settings yet; use `sessionrec config set`.",
                    EXIT_USAGE)
    try:
        destination = destination_for(ctx.data_dir, loaded.value)
    except UploadError as error:
        return fail(error.sentence, EXIT_FAILED)
    problem = destination.test_connection()
    if problem:
        return fail(problem, EXIT_FAILED)
    print(f"OK: {destination.describe()} can be reached and written to.")
    if loaded.value.destination_kind == "s3":
        from app.upload.s3.connection import lifecycle_sentence

        print(lifecycle_sentence(ctx.data_dir, loaded.value))
    turned_on = auto_upload_after_test(loaded.value)
    if turned_on is not None:
        save_config(ctx.data_dir, turned_on)
        print("Auto upload is on: each recording is queued for upload as soon as it is saved "
              "(`sessionrec config set autoUpload=false` turns it off).")
    return EXIT_OK
