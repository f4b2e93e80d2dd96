"""`sessionrec install-desktop-entry [--remove] [--autostart]`: the per-user menu entry and icon
(and a start-at-login entry) following freedesktop.org, for this installation of sessionrec."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from app.commands.context import EXIT_FAILED, EXIT_OK, CommandContext, fail
from app.paths import ENV_VAR

if TYPE_CHECKING:
    from app.desktop_entry import DesktopDirs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--remove", action="store_true",
                        help="remove the entries and icons instead (with --autostart: only the "
                        "start-at-login entry)")
    parser.add_argument("--autostart", action="store_true",
                        help="also start sessionrec at login (an XDG autostart entry)")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    from app.desktop_entry import DesktopDirs, EntryError

    dirs = DesktopDirs.from_environ(os.environ)
    try:
        if args.remove:
            return _remove(dirs, autostart_only=args.autostart)
        # A data folder chosen on purpose is kept by the entry; the desktop does not pass our
        # environment or arguments on.
        explicit = bool(getattr(args, "data_dir", None) or os.environ.get(ENV_VAR))
        return _install(dirs, ctx, explicit, args.autostart)
    except EntryError as exc:
        return fail(str(exc), EXIT_FAILED)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        return fail(f"the desktop entry could not be written or removed{where}: "
                    f"{exc.strerror or exc}.", EXIT_FAILED)


def _install(dirs: DesktopDirs, ctx: CommandContext, explicit_data_dir: bool, autostart: bool) -> int:
    from app.desktop_entry import InstallPlan, find_launcher, install
    from app.package_files import icon_bytes
    from app.widgets.icon_png import render_png

    svg = icon_bytes("app")
    if svg is None:
        return fail("this installation of sessionrec has no app icon; reinstall it.", EXIT_FAILED)
    launcher = find_launcher(ctx.data_dir if explicit_data_dir else None)
    written = install(dirs, InstallPlan(launcher, autostart, svg, lambda size: render_png(svg, size)))
    for path in written:
        print(f"wrote {path}")
    print(f"sessionrec is in the applications menu (starts: {' '.join(launcher.argv)})"
          + ("; it also starts at login." if autostart else "."))
    return EXIT_OK


def _remove(dirs: DesktopDirs, autostart_only: bool) -> int:
    from app.desktop_entry import remove

    result = remove(dirs, autostart_only)
    for path in result.removed:
        print(f"removed {path}")
    for path in result.kept:
        print(f"kept {path}: sessionrec did not write it")
    if not result.removed:
        print("Nothing to remove: no sessionrec desktop entry is installed here.")
    return EXIT_OK
