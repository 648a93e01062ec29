"""Sharing: albums shared with people (members with a role), and public links to an album.

Who may do what is decided here, from the caller's role in the album (`uow.albums.role`, which
applies the visibility rule): a stranger gets 404 as for a missing album; a member may see and,
where this says so, act; everything else is the owner's (403 for a member)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from photosync.adapters.objectstore import ObjectStore, PresignedDownload
from photosync.adapters.postgres.unit_of_work import UnitOfWork
from photosync.domain.cursor import TimelinePosition, decode_cursor, encode_cursor
from photosync.domain.errors import (
    Conflict, Forbidden, InvalidRequest, NotFound, PasswordRequired, TooManyRequests,
)
from photosync.domain.model import Link, Member
from photosync.domain.validation import LinkRequest
from photosync.services import changes
from photosync.services.photos import PhotoView, photo_views

# 32 random bytes: 256 bits, well above the 128 the contract asks for a capability.
TOKEN_BYTES = 32
# The longest token this server hands out is 43 characters; longer ones are not looked up at all.
MAX_TOKEN_CHARS = 128
PASSWORD_ATTEMPTS = 10
PASSWORD_WINDOW_SECONDS = 15 * 60
_hasher = PasswordHasher()


def _owner_only(uow: UnitOfWork, album_id: uuid.UUID, caller: uuid.UUID) -> None:
    found = uow.albums.role(album_id, caller=caller)
    if found is None:
        raise NotFound("album")
    if found[1] != "owner":
        raise Forbidden("only the album's owner may do this")


def _member_role(uow: UnitOfWork, album_id: uuid.UUID, caller: uuid.UUID) -> str:
    found = uow.albums.role(album_id, caller=caller)
    if found is None:
        raise NotFound("album")
    return found[1]


# ----------------------------------------------------------------------------------- members


@changes.retried_on_deadlock
def add_member(uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID, email: str, role: str) -> Member:
    """Share the album with `email`; if nobody has signed in with it yet, the membership waits for
    their first sign-in (`claim_invitations`)."""
    with uow.transaction():
        uow.users.lock(caller)
        _owner_only(uow, album_id, caller)
        owner = uow.users.get(caller)
        user_id = uow.users.id_by_email(email)
        if user_id == caller or (owner is not None and owner.email.lower() == email):
            raise InvalidRequest("the album's owner cannot be one of its members", field="email")
        if user_id is not None:
            uow.users.lock(user_id)
        member = uow.members.add(album_id, email=email, role=role, user_id=user_id)
        if member is None:
            raise Conflict("the album is already shared with this email")
        if user_id is not None:
            changes.albums_changed_for(uow, user_id=user_id, album_ids=[album_id])
    return member


def list_members(uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID) -> list[Member]:
    with uow.transaction():
        _member_role(uow, album_id, caller)
        return uow.members.list(album_id)


def _locked_member(uow: UnitOfWork, album_id: uuid.UUID, member_id: uuid.UUID) -> Member:
    """The member, with their user's row lock taken: what they are doing in the album meanwhile
    (adding photos) finishes before their membership changes, or starts after and sees it."""
    member = uow.members.get(member_id, album_id=album_id)
    if member is None:
        raise NotFound("member")
    if member.user_id is not None:
        uow.users.lock(member.user_id)
        member = uow.members.get(member_id, album_id=album_id)
        if member is None:
            raise NotFound("member")
    return member


@changes.retried_on_deadlock
def change_role(
    uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID, member_id: uuid.UUID, role: str
) -> Member:
    with uow.transaction():
        uow.users.lock(caller)
        _owner_only(uow, album_id, caller)
        _locked_member(uow, album_id, member_id)
        member = uow.members.set_role(member_id, album_id=album_id, role=role)
        assert member is not None
        if member.user_id is not None:
            changes.albums_changed_for(uow, user_id=member.user_id, album_ids=[album_id])
    return member


@changes.retried_on_deadlock
def remove_member(uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """The owner removes anyone; a member removes themselves (leaves). Access ends at once, and the
    photos the member added leave the album with them (they stay in their owner's library)."""
    with uow.transaction():
        uow.users.lock(caller)
        role = _member_role(uow, album_id, caller)
        member = _locked_member(uow, album_id, member_id)
        if role != "owner" and member.user_id != caller:
            raise Forbidden("only the album's owner may remove other members")
        uow.members.remove(member_id, album_id=album_id)
        if member.user_id is not None:
            taken = uow.albums.remove_added_by(album_id, member.user_id)
            changes.memberships_changed(uow, album_id=album_id, photo_ids=taken)
            changes.albums_changed_for(uow, user_id=member.user_id, album_ids=[album_id])


# ------------------------------------------------------------------------------------- links


@dataclass(frozen=True)
class PublicPage:
    album_name: str
    photo_count: int
    items: list[PhotoView]
    next_cursor: str | None


def create_link(uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID, request: LinkRequest) -> Link:
    # The slow hash is made before the transaction, which stays short.
    password_hash = _hasher.hash(request.password) if request.password is not None else None
    link = Link(
        id=uuid.uuid4(), album_id=album_id, token=secrets.token_urlsafe(TOKEN_BYTES),
        password_hash=password_hash, allow_download=request.allow_download,
        expires_at=request.expires_at, created_at=datetime.now(timezone.utc),
    )
    with uow.transaction():
        _owner_only(uow, album_id, caller)
        uow.links.add(link)
    return link


def list_links(uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID) -> list[Link]:
    with uow.transaction():
        _owner_only(uow, album_id, caller)
        return uow.links.list(album_id)


def delete_link(uow: UnitOfWork, *, caller: uuid.UUID, album_id: uuid.UUID, link_id: uuid.UUID) -> None:
    with uow.transaction():
        _owner_only(uow, album_id, caller)
        if not uow.links.delete(link_id, album_id=album_id):
            raise NotFound("link")


def open_link(uow: UnitOfWork, *, token: str, password: str | None) -> Link:
    """The live link for this token, once its password (if it has one) is given right. Unknown,
    expired and deleted links are all the same 404."""
    link = uow.links.live(token) if len(token) <= MAX_TOKEN_CHARS else None
    if link is None:
        raise NotFound("link")
    if link.password_hash is None:
        return link
    if password is None:
        raise PasswordRequired("this link needs its password (header X-Link-Password)")
    with uow.transaction():
        allowed = uow.links.take_password_attempt(
            link.id, limit=PASSWORD_ATTEMPTS, window_seconds=PASSWORD_WINDOW_SECONDS
        )
    if not allowed:
        raise TooManyRequests("too many wrong passwords for this link; try again later")
    try:
        _hasher.verify(link.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise PasswordRequired("wrong password for this link") from None
    with uow.transaction():
        uow.links.return_password_attempt(link.id)
    return link


def public_page(
    uow: UnitOfWork, store: ObjectStore, *, token: str, password: str | None, limit: int, cursor: str | None,
    url_ttl_seconds: int,
) -> PublicPage:
    after = decode_cursor(cursor) if cursor is not None else None
    link = open_link(uow, token=token, password=password)
    name, count = uow.links.album(link)
    rows = uow.photos.public_page(link.album_id, limit=limit + 1, after=after)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(TimelinePosition(page[-1].sort_at, page[-1].id)) if more else None
    return PublicPage(name, count, photo_views(store, page, url_ttl_seconds), next_cursor)


def public_download(
    uow: UnitOfWork, store: ObjectStore, *, token: str, password: str | None, photo_id: uuid.UUID,
    url_ttl_seconds: int,
) -> PresignedDownload:
    link = open_link(uow, token=token, password=password)
    if not link.allow_download:
        raise Forbidden("this link does not allow downloads")
    photo = uow.photos.shown_in_album(photo_id, album_id=link.album_id)
    if photo is None:
        raise NotFound("photo")
    # No filename: a link exposes none (the file is saved under a name of the browser's choosing).
    return store.presign_download(photo.object_key, expires_in=url_ttl_seconds, content_type=photo.content_type)
