"""`make run`'s processes under supervisord: one that dies is started again, until Ctrl-C.

honcho, which ran the Procfile before, stops every process as soon as one exits: a worker
killed (SIGKILL, the out-of-memory killer) took web, engine and scheduler down with it and
nothing came back. supervisord (the ``supervisor`` package: maintained, pure Python, no
dependencies) restarts a process that exits (``autorestart``), with a growing wait between
tries while it keeps failing to start (1 s, 2 s, 3 s … for ``START_RETRIES`` tries, then
it gives up on that one and says so), and logs each exit and start. circus would do too,
but brings ZeroMQ, tornado and psutil; honcho has no restart at all.

The Procfile stays the one list of commands (compose and a Heroku-like host read it too);
each becomes a supervisord program run by ``/bin/sh`` as honcho ran it. Each program's
output goes to a file under ``<data folder>/logs`` (kept, rotated at 10 MB), which the
launcher prints as it grows, prefixed with the process's name as honcho printed it.
"""

from __future__ import annotations

import datetime
import re
import shlex
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from honcho.colour import get_colours
from honcho.environ import parse_procfile
from honcho.printer import Message, Printer

# A process must stay up this long to count as started; one that exits sooner is tried
# again after 1, 2, 3 … seconds, this many times, then left stopped (logged "gave up").
START_SECONDS = 3
START_RETRIES = 10
# SIGTERM, then this long to finish (a worker's running task) before SIGKILL.
STOP_WAIT_SECONDS = 15
LOG_MAX_BYTES = 10 * 1024 * 1024
SUPERVISOR_NAME = "supervisor"
_SUPERVISOR_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")
_ASSIGNMENTS = re.compile(r"((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)(.*)", re.S)


@dataclass(frozen=True)
class Program:
    """One Procfile process, as supervisord runs it."""

    name: str
    command: str  # the Procfile's line

    @property
    def argv(self) -> list[str]:
        """``sh -c`` with the line (its ``${VAR:-default}`` expanded there, as under
        honcho). A single command is ``exec``'d: the process supervisord watches and
        signals is then the server or worker itself, not a shell waiting for it."""
        line = self.command.strip()
        assignments, rest = _ASSIGNMENTS.fullmatch(line).groups()
        if re.search(r"[;&|]", rest):  # several commands: the shell runs them
            return ["/bin/sh", "-c", line]
        return ["/bin/sh", "-c", f"{assignments}exec {rest}"]


def procfile_programs(procfile: Path, names: Iterable[str]) -> list[Program]:
    """The Procfile's processes ``names``, in that order."""
    processes = parse_procfile(procfile.read_text()).processes
    return [Program(name, processes[name]) for name in names]


def log_dir(data_dir: Path) -> Path:
    return data_dir / "logs"


def _value(text: str) -> str:
    # supervisord expands %(name)s in its values: a literal % is written %%.
    return text.replace("%", "%%")


def supervisord_config(programs: Iterable[Program], data_dir: Path, workdir: Path) -> str:
    """supervisord's configuration: the programs, restarted when they exit, logs and pid
    file under ``data_dir``. Every program gets supervisord's environment (the launcher's)."""
    logs = log_dir(data_dir)
    lines = [
        "; Written by `make run` (studio/supervision.py) at each start; edits are lost.",
        "[supervisord]",
        "nodaemon = true",
        # Its own lines go to its log, which the launcher prints with the others'.
        "silent = true",
        f"logfile = {_value(str(logs / 'supervisord.log'))}",
        f"logfile_maxbytes = {LOG_MAX_BYTES}",
        "logfile_backups = 3",
        f"pidfile = {_value(str(data_dir / 'supervisord.pid'))}",
        f"childlogdir = {_value(str(logs))}",
        "loglevel = info",
        "",
    ]
    for program in programs:
        lines += [
            f"[program:{program.name}]",
            f"command = {_value(shlex.join(program.argv))}",
            f"directory = {_value(str(workdir))}",
            "autostart = true",
            "autorestart = true",
            f"startsecs = {START_SECONDS}",
            f"startretries = {START_RETRIES}",
            "stopsignal = TERM",
            f"stopwaitsecs = {STOP_WAIT_SECONDS}",
            # The signal reaches the process's children too (a prefork worker's pool).
            "stopasgroup = true",
            "killasgroup = true",
            "redirect_stderr = true",
            f"stdout_logfile = {_value(str(logs / f'{program.name}.log'))}",
            f"stdout_logfile_maxbytes = {LOG_MAX_BYTES}",
            "stdout_logfile_backups = 3",
            'environment = PYTHONUNBUFFERED="1"',
            "",
        ]
    return "\n".join(lines)


def supervisord_command(config_path: Path) -> list[str]:
    return [sys.executable, "-m", "supervisor.supervisord", "--nodaemon", "-c", str(config_path)]


class LogPrinter:
    """Prints what the processes write to their log files, as honcho printed their output:
    ``12:00:01 web       | …``, a colour per process on a terminal."""

    def __init__(self, logs: dict[str, Path], output: TextIO = sys.stdout) -> None:
        width = max(len(name) for name in logs)
        self._printer = Printer(output, width=width)
        colours = get_colours()
        self._logs = {name: _Followed(path, next(colours)) for name, path in logs.items()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-printer", daemon=True)

    def start(self) -> None:
        for followed in self._logs.values():
            followed.skip_to_end()  # what an earlier run wrote was printed then
        self._thread.start()

    def stop(self) -> None:
        """Print what is left, then stop."""
        self._stop.set()
        self._thread.join(5)
        self._print_new()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._print_new()

    def _print_new(self) -> None:
        for name, followed in self._logs.items():
            for line in followed.new_lines():
                if name == SUPERVISOR_NAME:  # its own time stamp, after the printer's
                    line = _SUPERVISOR_TIME.sub("", line, count=1)
                now = datetime.datetime.now()
                self._printer.write(Message("line", line, now, name, followed.colour))


class _Followed:
    """A log file read as it grows, followed across supervisord's rotation."""

    def __init__(self, path: Path, colour: str) -> None:
        self.path = path
        self.colour = colour
        self._file = None
        self._inode: int | None = None
        self._partial = b""

    def skip_to_end(self) -> None:
        if self._open():
            self._file.seek(0, 2)

    def _open(self) -> bool:
        try:
            self._file = self.path.open("rb")
        except FileNotFoundError:
            return False
        self._inode = self.path.stat().st_ino
        return True

    def new_lines(self) -> list[str]:
        if self._file is None and not self._open():
            return []
        data = self._file.read()
        try:
            rotated = self.path.stat().st_ino != self._inode
        except FileNotFoundError:
            rotated = False
        if rotated:  # the rest of the old file, then the new one from its start
            self._file.close()
            if self._open():
                data += self._file.read()
        if not data:
            return []
        *lines, self._partial = (self._partial + data).split(b"\n")
        return [line.decode("utf-8", "replace").rstrip("\r") for line in lines]
