"""The `leasesync` command line: serve, db upgrade, ctl."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import socket
import ssl
import sys
from pathlib import Path
from typing import Any

from app import __version__
from app.config import Config, TlsConfig, default_config, load_config
from app.errors import ConfigError, DatabaseOpenError

log = logging.getLogger("leasesync")


def _load(path: str | None) -> Config:
    return load_config(path) if path else default_config(Path.cwd())


def setup_logging(fmt: str, severity: str) -> None:
    from app.logs import configure

    configure(fmt, severity)


def cmd_serve(args: argparse.Namespace) -> int:
    from app.main import build_app, build_runtime

    config = _load_with_port(args)
    setup_logging(config.agent.log_format, config.agent.log_severity)
    runtime = build_runtime(config)
    agent = config.agent

    app = build_app(runtime)
    server = _uvicorn_server(app, config)
    sockets = None
    if agent.http_workers:
        from app.api.frontends import FrontendSupervisor

        # bound here, not by uvicorn: the front-end processes accept on this same socket
        sockets = [_listening_socket(agent.http_host, agent.http_port)]
        frontend_args = (["-c", args.config] if args.config else []) + (["-p", str(args.port)] if args.port is not None else [])
        runtime.frontends = FrontendSupervisor(app, agent.http_workers, sockets[0], frontend_args)

    async def request_stop() -> None:
        server.should_exit = True

    runtime.shutdown_requested = request_stop
    log.info("leasesync %s listening on %s://%s:%d", __version__, "https" if agent.tls else "http",
             agent.http_host, agent.http_port)
    server.run(sockets=sockets)
    return runtime.exit_value & 0xFF  # as the C library truncates Kea's exit(): -1 gives 255


def _listening_socket(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc}", "LeaseSync.http-host") from None


def cmd_frontend(args: argparse.Namespace) -> int:
    """One HTTP front-end process (started by `serve` with LeaseSync.http-workers; see app/api/frontends.py)."""
    from app.api.frontends import FrontendApp

    config = _load_with_port(args)
    setup_logging(config.agent.log_format, config.agent.log_severity)
    server: Any = None

    def main_lost() -> None:
        if server is not None and not server.should_exit:
            log.info("the main process closed the link; this front-end stops")
            server.should_exit = True

    server = _uvicorn_server(FrontendApp(config, args.main_socket, main_lost), config)
    server.run(sockets=[socket.socket(fileno=args.listen_fd)])
    return 0 if server.started else 1


def _load_with_port(args: argparse.Namespace) -> Config:
    config = _load(args.config)
    if args.port is not None:
        from dataclasses import replace

        config.agent = replace(config.agent, http_port=args.port)
    return config


def _uvicorn_server(app: Any, config: Config) -> Any:
    import uvicorn

    from app.api.protocol import ControlChannelProtocol

    agent = config.agent
    ssl_kwargs: dict[str, object] = {}
    tls_context = None
    if agent.tls is not None:
        # built here, not by uvicorn: uvicorn cannot take a trust-anchor directory, and an unreadable
        # file must stop start-up with a configuration error naming the key, not a traceback
        tls_context = build_tls_context(agent.tls)
        ssl_kwargs = {"ssl_certfile": agent.tls.cert_file, "ssl_keyfile": agent.tls.key_file}

    class _Config(uvicorn.Config):
        def load(self) -> None:
            super().load()
            if tls_context is not None:
                self.ssl = tls_context

    server_config = _Config(
        app,
        host=agent.http_host,
        port=agent.http_port,
        loop="uvloop",
        http=ControlChannelProtocol,
        lifespan="on",
        access_log=False,
        server_header=False,
        date_header=False,
        proxy_headers=False,
        timeout_keep_alive=30,
        limit_concurrency=agent.max_connections,
        log_config=None,
        **ssl_kwargs,  # type: ignore[arg-type]
    )
    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                settle_heap()

    return _Server(server_config)


def settle_heap() -> None:
    """Hide what start-up made (modules, configuration, compiled SQL, pools) from the collector.

    It lives as long as the process, yet every full collection walked it: under load one came
    every 30-60 s and stopped the serving loop, and every request in flight, for 45-65 ms
    (bench/RESULTS.md, "Session 21"). Frozen, a full collection looks only at what came later
    (about 1 ms). Only in a serving process: in the test suite a frozen object would never be
    collected again."""
    gc.collect()
    gc.freeze()


def build_tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """The server's TLS context: Kea's trust-anchor (CA file or hashed directory), cert-file, key-file,
    cert-required (a client certificate is always verified when one is sent)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load cert-file/key-file: {exc}", "LeaseSync.cert-file") from None
    try:
        if os.path.isdir(tls.trust_anchor):
            context.load_verify_locations(capath=tls.trust_anchor)
        else:
            context.load_verify_locations(cafile=tls.trust_anchor)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load trust-anchor: {exc}", "LeaseSync.trust-anchor") from None
    context.verify_mode = ssl.CERT_REQUIRED if tls.cert_required else ssl.CERT_OPTIONAL
    return context


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from app.store.migrate import open_and_upgrade
    from app.store.repository import make_engine

    config = _load(args.config)
    seen: set[str] = set()
    for family in (config.dhcp4, config.dhcp6):
        if family is None or family.lease_database.url() in seen:
            continue
        seen.add(family.lease_database.url())
        engine = make_engine(family.lease_database)
        try:
            open_and_upgrade(engine, family.lease_database.redacted_url())
        finally:
            engine.dispose()
        print(f"{family.lease_database.redacted_url()}: up to date")
    return 0


def cmd_config_test(args: argparse.Namespace) -> int:
    _load(args.config)
    print("configuration is valid")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leasesync",
        description="HA-aware DHCP lease agent that speaks ISC Kea's control channel.",
    )
    parser.add_argument("--version", action="version", version=f"leasesync {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the service",
                           description="Run the control channel and HA services. Without -c, serve on "
                           "127.0.0.1:8000 with an embedded SQLite store (./leasesync.db).")
    serve.add_argument("-c", "--config", help="Kea-style JSON configuration file")
    serve.add_argument("-p", "--port", type=int, help="override LeaseSync.http-port")
    serve.set_defaults(func=cmd_serve)

    # started by `serve` itself (LeaseSync.http-workers), not by users: hidden from --help
    frontend = sub.add_parser("frontend")
    frontend.add_argument("-c", "--config")
    frontend.add_argument("-p", "--port", type=int)
    frontend.add_argument("--listen-fd", type=int, required=True)
    frontend.add_argument("--main-socket", required=True)
    frontend.set_defaults(func=cmd_frontend)

    db = sub.add_parser("db", help="lease database maintenance", description="Lease database maintenance.")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply migrations",
                                description="Bring every configured lease database up to date. A schema "
                                "created by Kea's kea-admin is detected and left as it is.")
    upgrade.add_argument("-c", "--config", help="configuration file")
    upgrade.set_defaults(func=cmd_db_upgrade)

    check = sub.add_parser("config-test", help="validate a configuration file",
                           description="Parse and validate a configuration file; exit 1 naming the bad key.")
    check.add_argument("-c", "--config", required=True)
    check.set_defaults(func=cmd_config_test)

    try:
        from app.ctl import add_ctl_parser
    except ImportError:
        pass
    else:
        add_ctl_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"leasesync: configuration error: {exc}", file=sys.stderr)
        return 1
    except DatabaseOpenError as exc:
        print(f"leasesync: cannot open the lease database {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
