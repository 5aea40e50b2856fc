"""Load benchmark: N concurrent sessions through Overview and Migration profile, p50/p95 and server CPU.

    .venv/bin/python bench/load_bench.py [--sessions 1,5,10,20] [--rounds 3]
                                         [--servers 1] [--database URL] [--countries NPL,DEU,SYR,TUV]

Starts the app itself (``streamlit run app.py`` on loopback, each server with its own fresh data
folder) and drives it with N lightweight clients that speak Streamlit's own websocket protocol (the
protobuf messages the browser sends: a page run, the sidebar's country choice), not N browsers on
the same cores. Each session opens the app, then for each round and each country: chooses the
country in the sidebar, shows Overview, shows Migration profile. A view's time is from the message
that asks for it to the server's "script finished" (what a person waits for before the page is
complete; the browser's drawing is not included). A view that shows an exception counts as an error.

Server CPU per view: user+system CPU of the server processes (``/proc/<pid>/stat``) over the level,
divided by the views served. Before the levels, one session visits every country once (caches
warm, as on a server that has been running); its times are reported as "warm-up".

``--servers 2 --database postgresql+psycopg://...``: two app servers, each with its own data folder,
on one PostgreSQL, behind a small local reverse proxy with sticky sessions (a cookie names the
server; a websocket stays with the server that served its first request). With ``--servers 1`` and
no ``--database`` the server uses its embedded SQLite store.

Target (issue #16, quiet 2-core machine): 20 sessions, p95 ≤ 3 s for both pages. The load average
is printed with the results: absolute times on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import websockets  # noqa: E402  (a dependency of streamlit)
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from mmicd import codes  # noqa: E402

STICKY_COOKIE = "mmicd_node"
VIEW_TIMEOUT_S = 120.0


# ---- servers ---------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    port: int
    proc: subprocess.Popen
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process and its children so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
        return ticks / os.sysconf("SC_CLK_TCK")


def start_server(data_dir: Path, database: str | None, log: Path) -> Server:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMICD_")}
    env["MMICD_DATA_DIR"] = str(data_dir)
    env["MMICD_ADMIN_USER"], env["MMICD_ADMIN_PASSWORD"] = "bench-admin", "bench-admin-password-1"
    if database:
        env["MMICD_DATABASE_URL"] = database
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}; see {log}")
        with contextlib.suppress(OSError), \
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as resp:
            if resp.read().strip() == b"ok":
                return Server(port, proc, log)
        if time.monotonic() > deadline:
            raise SystemExit(f"server not healthy after 300 s; see {log}")
        time.sleep(0.5)


def stop_server(server: Server) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.proc.pid, signal.SIGTERM)
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.proc.pid, signal.SIGKILL)


# ---- a reverse proxy with sticky sessions -----------------------------------------------------
class StickyProxy:
    """HTTP/websocket reverse proxy on loopback: a request carrying ``mmicd_node=<i>`` goes to server i;
    one without goes to the next server in turn and its response sets the cookie. A connection (and so
    a websocket) stays with the server chosen for its first request."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self.turn = itertools.cycle(range(len(ports)))
        self.port = _free_port()
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self.server:
            self.server.close()

    def _choose(self, head: bytes) -> tuple[int, bool]:
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"cookie:"):
                for part in line.split(b":", 1)[1].split(b";"):
                    name, _, value = part.strip().partition(b"=")
                    if name == STICKY_COOKIE.encode() and value.isdigit() and int(value) < len(self.ports):
                        return int(value), False
        return next(self.turn), True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        node, new = self._choose(head)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.ports[node])
        up_writer.write(head)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, first: bytes = b"") -> None:
            try:
                if first:
                    dst.write(first)
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.close()

        first = b""
        if new:  # add the cookie to the response head
            response = await up_reader.readuntil(b"\r\n\r\n")
            first = response[:-2] + f"Set-Cookie: {STICKY_COOKIE}={node}; Path=/; HttpOnly\r\n\r\n".encode()
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer, first))


# ---- a client session ------------------------------------------------------------------------
@dataclass
class Session:
    url: str
    times: dict[str, list[float]] = field(default_factory=lambda: {"overview": [], "profile": []})
    errors: list[str] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)
    country_box: tuple[str, list[str]] | None = None   # widget id, option labels
    widgets: dict[str, str] = field(default_factory=dict)
    country: str | None = None

    async def run(self, countries: list[str], rounds: int) -> None:
        async with websockets.connect(self.url, subprotocols=["streamlit"], max_size=None, open_timeout=60) as ws:
            await self._view(ws, None)
            for _ in range(rounds):
                for country in countries:
                    self._choose(country)
                    for page in ("overview", "profile"):
                        await self._view(ws, page)

    def _choose(self, country: str) -> None:
        if self.country_box:
            box, options = self.country_box
            name = codes.area_name(country, "en")
            self.widgets[box] = next(o for o in options if o == name)
            self.country = name

    async def _view(self, ws, page: str | None) -> None:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        if page:
            msg.rerun_script.page_script_hash = self.pages[page]
        for wid, value in self.widgets.items():
            state = msg.rerun_script.widget_states.widgets.add()
            state.id, state.string_value = wid, value
        shown = []   # the texts of the page, to check that it is about the chosen country
        start = time.perf_counter()
        await ws.send(msg.SerializeToString())
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(ws.recv(), VIEW_TIMEOUT_S))
            kind = fwd.WhichOneof("type")
            if kind == "navigation" and not self.pages:
                self.pages = {(p.url_pathname or "overview"): p.page_script_hash for p in fwd.navigation.app_pages}
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                if element.WhichOneof("type") == "exception":
                    self.errors.append(f"{page}: {element.exception.message}")
                elif element.WhichOneof("type") == "selectbox" and "Nepal" in element.selectbox.options:
                    self.country_box = (element.selectbox.id, list(element.selectbox.options))
                elif element.WhichOneof("type") in ("markdown", "heading"):
                    shown.append(getattr(element, element.WhichOneof("type")).body)
            elif kind == "script_finished" and fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                if page:
                    self.times[page].append(time.perf_counter() - start)
                if page and self.country and not any(self.country in text for text in shown):
                    self.errors.append(f"{page}: {self.country} not shown ({' | '.join(shown)[:300]})")
                return


async def level(url: str, sessions: int, countries: list[str], rounds: int) -> list[Session]:
    clients = [Session(url) for _ in range(sessions)]
    # each session starts at another country, so that they do not all ask for the same one at once
    plans = [countries[i % len(countries):] + countries[:i % len(countries)] for i in range(sessions)]
    await asyncio.gather(*(c.run(p, rounds) for c, p in zip(clients, plans, strict=True)))
    return clients


def _quantile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def report(name: str, clients: list[Session], cpu: float) -> None:
    views = sum(len(t) for c in clients for t in c.times.values())
    errors = [e for c in clients for e in c.errors]
    for page in ("overview", "profile"):
        values = [t for c in clients for t in c.times[page]]
        if values:
            print(f"{name:>14} {page:>9} {len(values):>5} {statistics.median(values):>7.2f} "
                  f"{_quantile(values, 0.95):>7.2f} {max(values):>7.2f}", end="")
            print(f" {cpu / views:>11.3f}" if page == "profile" and views else "")
    for e in errors[:5]:
        print(f"    error: {e}")
    if errors:
        print(f"    {len(errors)} view(s) with an error")


async def main_async(args: argparse.Namespace) -> int:
    levels = [int(n) for n in args.sessions.split(",")]
    countries = [c.strip().upper() for c in args.countries.split(",")]
    if args.servers > 1 and not (args.database or "").startswith("postgresql"):
        raise SystemExit("--servers 2 needs --database postgresql+psycopg://... (servers share only the database)")
    work = Path(tempfile.mkdtemp(prefix="mmicd-load-"))
    servers: list[Server] = []
    proxy = None
    try:
        for i in range(args.servers):  # one after the other: the first one seeds the database
            servers.append(start_server(work / f"data{i}", args.database, work / f"server{i}.log"))
        if args.servers > 1:
            proxy = StickyProxy([s.port for s in servers])
            await proxy.start()
            url = f"ws://127.0.0.1:{proxy.port}/_stcore/stream"
        else:
            url = f"ws://127.0.0.1:{servers[0].port}/_stcore/stream"
        for i in range(args.servers):   # warm every server's caches once
            warm = Session(url if proxy is None else f"ws://127.0.0.1:{servers[i].port}/_stcore/stream")
            await warm.run(countries, 1)
            report("warm-up" if args.servers == 1 else f"warm-up {i + 1}", [warm], 0.0)
        print(f"{'sessions':>14} {'page':>9} {'views':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'CPU s/view':>11}")
        failed = False
        for n in levels:
            cpu0 = sum(s.cpu_seconds() for s in servers)
            clients = await level(url, n, countries, args.rounds)
            cpu = sum(s.cpu_seconds() for s in servers) - cpu0
            report(str(n), clients, cpu)
            failed |= any(c.errors for c in clients)
        print(f"load average after the run: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
        return 1 if failed else 0
    finally:
        if proxy:
            await proxy.stop()
        for s in servers:
            stop_server(s)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"server logs and data kept in {work}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="1,5,10,20", help="comma-separated numbers of concurrent sessions")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over the countries per session")
    parser.add_argument("--countries", default="NPL,DEU,SYR,TUV")
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--database", default=None, help="database URL shared by the servers (PostgreSQL for 2)")
    parser.add_argument("--keep", action="store_true", help="keep the servers' logs and data folders")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}; servers: {args.servers}; "
          f"database: {'embedded SQLite' if not args.database else args.database.split('@')[-1]}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
