"""`photosync albums share | unshare | members | leave | link | links | unlink` and the shared albums of
`albums list`, run in-process against a real `photosync serve`, each person with their own sign-in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from photosync.cli.main import app
from photosync.client import NotFound, PasswordRequired, PhotoSyncClient
from photosync.client.auth import TokenStore
from tests.support.cli_session import photo, server  # noqa: F401 - fixtures


class Person:
    """`photosync ...` in-process for one person, with a config directory (sign-in) of their own."""

    def __init__(self, tmp_path: Path, server, email: str) -> None:
        self.email = email
        self.config = tmp_path / email
        self.server = server
        self.runner = CliRunner()

    def __call__(self, *args, expect: int = 0, input: str | None = None):
        result = self.runner.invoke(app, [str(arg) for arg in args], input=input,
                                    env={"PHOTOSYNC_CONFIG_DIR": str(self.config)})
        assert result.exit_code == expect, (result.stdout, result.stderr, result.exception)
        return result

    def sign_in(self) -> "Person":
        self("login", "--server", self.server.base_url, "--email", self.email)
        return self

    def client(self) -> PhotoSyncClient:
        return PhotoSyncClient(self.server.base_url, TokenStore(self.config).load().access_token)

    def upload(self, tmp_path: Path, number: int) -> str:
        path = tmp_path / f"{self.email}-{number}.jpg"
        path.write_bytes(photo(number))
        with self.client() as client:
            return client.upload_file(path).photo_id


def unboxed(text: str) -> str:
    """A usage error's text without the frame Rich draws around it, on one line."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.fixture
def people(tmp_path, server, request):
    prefix = request.node.name.replace("_", "-")[:30]
    return lambda name: Person(tmp_path, server, f"{prefix}-{name}@example.com")


def test_share_with_people_change_roles_unshare_and_leave(tmp_path, server, people):
    owner, bob, carol = people("owner").sign_in(), people("bob"), people("carol")
    own_photo = owner.upload(tmp_path, 1)
    album_id = owner("albums", "create", "Family").stdout.split()[2]
    owner("albums", "add", album_id, own_photo)

    # Bob has no account yet: he becomes a member when he first signs in.
    invited = owner("albums", "share", "Family", bob.email, "--role", "contributor").stdout
    assert f"Shared 'Family' with {bob.email} as contributor" in invited
    assert "appears for them when they first sign in" in invited
    bob.sign_in()
    listing = bob("albums", "list").stdout
    assert album_id in listing and owner.email in listing and "contributor" in listing
    assert "1 album(s), 1 shared with you" in listing

    # A contributor adds a photo of their own; the owner sees it in the album.
    bobs_photo = bob.upload(tmp_path, 2)
    bob("albums", "add", album_id, bobs_photo)
    with owner.client() as client:
        assert {p.id for p in client.iter_photos(album_id=album_id)} == {own_photo, bobs_photo}

    # Sharing is the owner's: a member is told whose album it is, without a refused request.
    refused = bob("albums", "share", album_id, carol.email, expect=1)
    assert f"Only the owner of 'Family' ({owner.email}) can share it" in refused.stderr
    assert "contributor" in refused.stderr

    members = owner("albums", "members", "Family").stdout
    assert bob.email in members and "joined" in members and "contributor" in members
    assert "already a contributor" in owner("albums", "share", "Family", bob.email, "--role", "contributor").stdout
    assert f"{bob.email} is now a viewer" in owner("albums", "share", "Family", bob.email, "--role", "viewer").stdout
    assert "viewer" in bob("albums", "list").stdout

    # Carol signs up first, then leaves the album on her own.
    carol.sign_in()
    owner("albums", "share", album_id, carol.email)
    assert album_id in carol("albums", "list").stdout
    assert "You left 'Family'" in carol("albums", "leave", "Family").stdout
    assert album_id not in carol("albums", "list").stdout
    assert "is your own album" in owner("albums", "leave", "Family", expect=1).stderr

    assert f"{bob.email} no longer has access to 'Family'" in owner("albums", "unshare", "Family", bob.email).stdout
    assert album_id not in bob("albums", "list").stdout
    missing = owner("albums", "unshare", "Family", bob.email, expect=1)
    assert f"{bob.email} is not a member of 'Family'" in missing.stderr and "photosync albums members" in missing.stderr
    assert "No album 'Holidays'" in owner("albums", "share", "Holidays", bob.email, expect=1).stderr


def test_public_links_with_expiry_password_and_download_switch(tmp_path, server, people):
    owner = people("owner").sign_in()
    photo_ids = {owner.upload(tmp_path, 10), owner.upload(tmp_path, 11)}
    album_id = owner("albums", "create", "Wedding").stdout.split()[2]
    owner("albums", "add", album_id, *photo_ids)

    plain = owner("albums", "link", "Wedding", "--expires", "7d", "--no-download")
    url = plain.stdout.strip()
    assert "/s/" in url and "\n" not in url
    assert "no password" in plain.stderr and "no downloads" in plain.stderr and "photosync albums unlink" in plain.stderr
    token = url.rsplit("/", 1)[1]
    with PhotoSyncClient(server.base_url) as anonymous:
        page = anonymous.public_album(token)
        assert page.name == "Wedding" and page.photo_count == 2
        assert {item.id for item in page.items} == photo_ids

    protected = owner("albums", "link", album_id, "--password-prompt", input="correct horse\ncorrect horse\n")
    protected_token = protected.stdout.strip().splitlines()[-1].rsplit("/", 1)[1]
    assert "password needed" in protected.stderr and "downloads allowed" in protected.stderr
    with PhotoSyncClient(server.base_url) as anonymous:
        with pytest.raises(PasswordRequired):
            anonymous.public_album(protected_token)
        with pytest.raises(PasswordRequired):
            anonymous.public_album(protected_token, password="wrong")
        photo_id = next(iter(photo_ids))
        assert anonymous.public_album(protected_token, password="correct horse").photo_count == 2
        assert anonymous.public_download_link(protected_token, photo_id, password="correct horse").url

    listing = owner("albums", "links", "Wedding").stdout
    with owner.client() as client:
        links = {link.token: link for link in client.list_links(album_id)}
    assert set(links) == {token, protected_token}
    assert links[token].id in listing and links[protected_token].id in listing and "2 link(s)" in listing
    assert links[token].expires_at is not None and not links[token].allow_download
    assert links[protected_token].has_password and links[protected_token].expires_at is None

    assert "Revoked link" in owner("albums", "unlink", "Wedding", links[token].id).stdout
    with PhotoSyncClient(server.base_url) as anonymous, pytest.raises(NotFound):
        anonymous.public_album(token)
    assert "has no link" in owner("albums", "unlink", "Wedding", links[token].id, expect=1).stderr

    # What to do next when the input is wrong.
    past = unboxed(owner("albums", "link", "Wedding", "--expires", "2001-01-01", expect=2).stderr)
    assert "--expires" in past and "give a time in the future" in past
    assert "a duration (30m, 12h, 7d, 2w)" in unboxed(owner("albums", "link", "Wedding", "--expires", "soon", expect=2).stderr)
    assert "The password is empty" in owner("albums", "link", "Wedding", "--password-prompt", input=" \n \n", expect=1).stderr
