"""`photosync albums share | unshare | members | leave | link | links | unlink`: albums shared with
people (as viewers or contributors) and public links to them.

An ALBUM is given by its id or its exact name. Sharing, members and links are the owner's: for an
album shared with the caller these commands say whose it is instead of sending a request that would
be refused.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from typing import Annotated, Optional

import typer
from rich.table import Table

from photosync.cli.common import fail, session, stderr, stdout
from photosync.client.api import PhotoSyncClient
from photosync.client.errors import Forbidden, NotFound
from photosync.client.models import Album, Link, Member

ALBUM_HELP = "The album's id or exact name (see `photosync albums list`)."
_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_DURATION_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class Role(str, Enum):
    viewer = "viewer"
    contributor = "contributor"


ROLE_MEANING = {"viewer": "can see its photos", "contributor": "can see its photos and add their own"}


def resolve_album(client: PhotoSyncClient, reference: str) -> Album:
    """The album named by id or by exact name among the caller's own and shared albums."""
    albums = client.list_albums()
    for album in albums:
        if album.id == reference:
            return album
    named = [album for album in albums if album.name == reference]
    if len(named) == 1:
        return named[0]
    if named:
        raise fail(f"{len(named)} albums are named {reference!r}: give the id of the one you mean "
                   "(`photosync albums list` shows the ids)")
    raise fail(f"No album {reference!r} among yours or those shared with you: `photosync albums list` shows them")


def owned_album(client: PhotoSyncClient, reference: str, doing: str) -> Album:
    """The album, when the caller owns it; else what to do instead."""
    album = resolve_album(client, reference)
    if album.role != "owner":
        owner = album.owner.email if album.owner else "its owner"
        raise fail(f"Only the owner of {album.name!r} ({owner}) can {doing}: you are a {album.role} of it")
    return album


def _owner_only(album: Album, doing: str) -> typer.Exit:
    return fail(f"Only the owner of {album.name!r} can {doing}")


def _find_member(members: list[Member], email: str) -> Member | None:
    wanted = email.strip().casefold()
    return next((member for member in members if member.email.casefold() == wanted and member.role != "owner"), None)


def share(
    album_ref: Annotated[str, typer.Argument(metavar="ALBUM", help=ALBUM_HELP)],
    email: Annotated[str, typer.Argument(help="Who to share it with (they need not have an account yet).")],
    role: Annotated[Role, typer.Option("--role", case_sensitive=False, help="viewer: sees the album; contributor: also adds photos.")] = Role.viewer,
) -> None:
    """Share an album with someone by email, as a viewer or a contributor (sharing again changes the role)."""
    with session() as client:
        album = owned_album(client, album_ref, "share it")
        try:
            existing = _find_member(client.list_members(album.id), email)
            if existing is not None and existing.role == role.value:
                stdout().print(f"{existing.email} is already a {role.value} of {album.name!r}", markup=False)
                return
            if existing is not None:
                member = client.change_member_role(album.id, existing.id, role.value)
                stdout().print(f"{member.email} is now a {member.role} of {album.name!r} ({ROLE_MEANING[member.role]})",
                               markup=False)
                return
            member = client.add_member(album.id, email.strip(), role.value)
        except Forbidden:
            raise _owner_only(album, "share it") from None
    out = stdout()
    out.print(f"Shared {album.name!r} with {member.email} as {member.role} ({ROLE_MEANING[member.role]})", markup=False)
    if not member.joined:
        out.print(f"{member.email} has no PhotoSync account yet: the album appears for them when they first sign in.",
                  markup=False)


def unshare(
    album_ref: Annotated[str, typer.Argument(metavar="ALBUM", help=ALBUM_HELP)],
    email: Annotated[str, typer.Argument(help="The member to remove.")],
) -> None:
    """Stop sharing an album with someone: their access ends at once (their own photos in it leave with them)."""
    with session() as client:
        album = owned_album(client, album_ref, "remove its members")
        try:
            members = client.list_members(album.id)
            member = _find_member(members, email)
            if member is None:
                raise fail(f"{email} is not a member of {album.name!r}: `photosync albums members {album.id}` lists them")
            client.remove_member(album.id, member.id)
        except Forbidden:
            raise _owner_only(album, "remove its members") from None
    stdout().print(f"{member.email} no longer has access to {album.name!r}", markup=False)


def members(album_ref: Annotated[str, typer.Argument(metavar="ALBUM", help=ALBUM_HELP)]) -> None:
    """List the people an album is shared with, and their roles."""
    with session() as client:
        album = resolve_album(client, album_ref)
        try:
            people = client.list_members(album.id)
        except Forbidden:
            raise _owner_only(album, "see its members") from None
    table = Table(box=None, pad_edge=False)
    table.add_column("Email", overflow="fold", min_width=20)
    table.add_column("Role", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Added", no_wrap=True)
    table.add_column("ID", no_wrap=True)
    for member in people:
        status = "joined" if member.joined else "invited (no account yet)"
        added = member.added_at.strftime("%Y-%m-%d") if member.added_at else ""
        table.add_row(member.email, member.role, status, added, member.id)
    out = stdout()
    out.print(table)
    shared = [member for member in people if member.role != "owner"]
    out.print(f"{album.name!r} is shared with {len(shared)} people" if shared else
              f"{album.name!r} is not shared: `photosync albums share {album.id} EMAIL` shares it", markup=False)


def leave(album_ref: Annotated[str, typer.Argument(metavar="ALBUM", help=ALBUM_HELP)]) -> None:
    """Leave an album someone shared with you (it disappears from your albums)."""
    with session() as client:
        album = resolve_album(client, album_ref)
        if album.role == "owner":
            raise fail(f"{album.name!r} is your own album: delete it with `photosync albums delete {album.id}`")
        try:
            client.leave_album(album.id)
        except NotFound:
            stdout().print(f"You are no longer a member of {album.name!r}", markup=False)
            return
    stdout().print(f"You left {album.name!r}", markup=False)


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """`--expires`: a duration from now (30m, 12h, 7d, 2w), a date (the end of that day, local time)
    or a date and time (ISO 8601; local time unless it gives an offset)."""
    now = now or datetime.now(timezone.utc)
    duration = _DURATION.match(text)
    if duration:
        amount, unit = int(duration.group(1)), duration.group(2).lower()
        moment = now + timedelta(**{_DURATION_UNITS[unit]: amount})
    else:
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            day = None
        if day is not None:
            moment = datetime.combine(day + timedelta(days=1), time()).astimezone()
        else:
            try:
                moment = datetime.fromisoformat(text.strip())
            except ValueError:
                raise typer.BadParameter("give a duration (30m, 12h, 7d, 2w), a date (2026-12-31) "
                                         "or a date and time (2026-12-31T18:00)") from None
            if moment.tzinfo is None:
                moment = moment.astimezone()
    if moment <= now:
        raise typer.BadParameter("the link would already have expired: give a time in the future")
    return moment.astimezone(timezone.utc)


def _describe(link: Link) -> str:
    parts = [f"until {link.expires_at.astimezone().strftime('%Y-%m-%d %H:%M')}" if link.expires_at else "no expiry",
             "password needed" if link.has_password else "no password",
             "downloads allowed" if link.allow_download else "no downloads"]
    return ", ".join(parts)


def _expiry_option(value: Optional[str]) -> Optional[datetime]:
    return parse_expiry(value) if value is not None else None


def link(
    album_ref: Annotated[str, typer.Argument(metavar="ALBUM", help=ALBUM_HELP)],
    expires: Annotated[Optional[str], typer.Option(
        "--expires", metavar="WHEN", callback=_expiry_option,
        help="When the link stops working: 30m, 12h, 7d, 2w, a date or a date and time.",
    )] = None,
    password_prompt: Annotated[bool, typer.Option("--password-prompt", help="Ask for a password the link will need.")] = False,
    no_download: Annotated[bool, typer.Option("--no-download", help="Visitors may look but not download originals.")] = False,
) -> None:
    """Make a public link to an album and print its URL: anyone who has it can see the album, signed out."""
    expires_at: Optional[datetime] = expires  # type: ignore[assignment] - the callback made it a time
    password = None
    with session() as client:
        album = owned_album(client, album_ref, "make links to it")
        if password_prompt:
            password = typer.prompt("Password for the link", hide_input=True, confirmation_prompt=True)
            if not password.strip():
                raise fail("The password is empty: give one, or leave out --password-prompt")
        try:
            created = client.create_link(album.id, expires_at=expires_at, password=password, allow_download=not no_download)
        except Forbidden:
            raise _owner_only(album, "make links to it") from None
    # The URL alone on stdout, so that `URL=$(photosync albums link ...)` works; the rest on stderr.
    stdout().print(created.url, markup=False, soft_wrap=True)
    stderr().print(f"Anyone with this link can see {album.name!r} ({_describe(created)}). "
                   f"Revoke it with `photosync albums unlink {album.id} {created.id}`.", markup=False, soft_wrap=True)


def links(album_ref: Annotated[str, typer.Argument(metavar="ALBUM", help=ALBUM_HELP)]) -> None:
    """List an album's public links."""
    with session() as client:
        album = owned_album(client, album_ref, "see its links")
        try:
            found = client.list_links(album.id)
        except Forbidden:
            raise _owner_only(album, "see its links") from None
    now = datetime.now(timezone.utc)
    table = Table(box=None, pad_edge=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("Expires", no_wrap=True)
    table.add_column("Password", no_wrap=True)
    table.add_column("Download", no_wrap=True)
    table.add_column("URL", overflow="fold", min_width=20)
    for item in found:
        if item.expires_at is None:
            expiry = "never"
        else:
            expiry = item.expires_at.astimezone().strftime("%Y-%m-%d %H:%M") + (" (expired)" if item.expires_at <= now else "")
        table.add_row(item.id, expiry, "yes" if item.has_password else "no", "yes" if item.allow_download else "no", item.url)
    out = stdout()
    out.print(table)
    out.print(f"{len(found)} link(s)" if found else
              f"{album.name!r} has no public links: `photosync albums link {album.id}` makes one", markup=False)


def unlink(
    album_ref: Annotated[str, typer.Argument(metavar="ALBUM", help=ALBUM_HELP)],
    link_id: Annotated[str, typer.Argument(help="The link to revoke (see `photosync albums links ALBUM`).")],
) -> None:
    """Revoke a public link: it stops working at once."""
    with session() as client:
        album = owned_album(client, album_ref, "revoke its links")
        try:
            known = {item.id for item in client.list_links(album.id)}
            if link_id not in known:
                raise fail(f"{album.name!r} has no link {link_id}: `photosync albums links {album.id}` lists them")
            client.delete_link(album.id, link_id)
        except Forbidden:
            raise _owner_only(album, "revoke its links") from None
    stdout().print(f"Revoked link {link_id} of {album.name!r}", markup=False)


def register(albums_app: typer.Typer) -> None:
    """Add the sharing commands to `photosync albums`."""
    albums_app.command()(share)
    albums_app.command()(unshare)
    albums_app.command()(members)
    albums_app.command()(leave)
    albums_app.command()(link)
    albums_app.command()(links)
    albums_app.command()(unlink)
