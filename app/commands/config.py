"""`sessionrec config show | set KEY=VALUE... | test`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandContext, fail

SECRET_KEYS = ("secretAccessKey", "sessionToken")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    sub.add_parser("show", help="print the settings (secrets masked)")
    set_parser = sub.add_parser("set", help="change settings, e.g. bucket=my-bucket region=eu-west-1")
    set_parser.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    sub.add_parser("test", help="check the bucket can be reached with these settings")


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
    from app.upload.credentials import load_secrets, storage_warning

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
        from app.upload.object_options import parse_tags

        return parse_tags(raw)
    if hint.startswith("int"):
        return int(raw)
    if hint.startswith("float"):
        return float(raw)
    if hint.startswith("bool"):
        lowered = raw.lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise ValueError("expected true or false")
    return raw


def _set(ctx: CommandContext, assignments: list[str]) -> int:
    from app.upload.config import UploadConfig, load_config, save_config, validate_config
    from app.upload.credentials import save_secrets

    fields = _fields()
    changes: dict[str, Any] = {}
    secret_changes: dict[str, str | None] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep:
            return fail(f"'{key[:40]}' is not KEY=VALUE.", EXIT_USAGE)
        if key in SECRET_KEYS:
            secret_changes[key] = raw or None
            continue
        if key not in fields:
            known = ", ".join([*fields, *SECRET_KEYS])
            return fail(f"'{key[:40]}' is not a setting; settings are: {known}.", EXIT_USAGE)
        try:
            changes[fields[key].name] = _parse_value(key, raw)
        except ValueError as exc:
            if str(fields[key].type).startswith("dict"):
                return fail(f"{key}: {exc}", EXIT_USAGE)
            return fail(f"{key} needs a {str(fields[key].type).split(' ')[0]} value.", EXIT_USAGE)
    loaded = load_config(ctx.data_dir)
    if loaded.problem:
        return fail(f"the settings cannot be read: {loaded.problem}.", EXIT_USAGE)
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
        save_config(ctx.data_dir, config)
    if secret_changes:
        storage = save_secrets(ctx.data_dir, **secret_changes)
        if storage == "file":
            from app.upload.credentials import FILE_WARNING

            print(f"Note: {FILE_WARNING}", file=sys.stderr)
    print("Settings saved.")
    return EXIT_OK


def _test(ctx: CommandContext) -> int:
    from app.upload.config import auto_upload_after_test, load_config, save_config
    from app.upload.connection import test_connection

    loaded = load_config(ctx.data_dir)
    if loaded.value is None:
        return fail(loaded.problem or "there are no S3 settings yet; use `sessionrec config set`.",
                    EXIT_USAGE)
    problem = test_connection(ctx.data_dir, loaded.value)
    if problem:
        return fail(problem, EXIT_FAILED)
    print(f"OK: the bucket '{loaded.value.bucket}' can be reached and written to.")
    turned_on = auto_upload_after_test(loaded.value)
    if turned_on is not None:
        save_config(ctx.data_dir, turned_on)
        print("Auto upload is on: each recording is queued for upload as soon as it is saved "
              "(`sessionrec config set autoUpload=false` turns it off).")
    return EXIT_OK
