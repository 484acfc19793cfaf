"""`python -m gateway_agent run|provision|read-meter`: the agent's command line."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from gateway_agent.config import AgentConfig, ConfigError, load

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gateway_agent", description="The Home Energy Box agent."
    )
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING"))
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="read the meter and devices, upload, obey commands")
    run.add_argument("--config", required=True, type=Path, help="the agent's TOML file")
    provision = commands.add_parser(
        "provision", help="fetch the box's key once with its claim code (exit 0 when stored)"
    )
    provision.add_argument("--config", required=True, type=Path)
    commands.add_parser(
        "read-meter", help="read a meter and print its readings (read-meter --help)", add_help=False
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "read-meter" in argv[:1]:
        from gateway_agent.read_meter import main as read_meter

        return read_meter(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format=LOG_FORMAT)
    try:
        config = load(args.config)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    if args.command == "run":
        return run(config)
    return provision(config)


def run(config: AgentConfig) -> int:
    from gateway_agent.agent import Agent
    from gateway_agent.clock import Clock, RealClock, ScaledClock

    config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    simulation = config.simulation
    clock: Clock = RealClock()
    if simulation.speed != 1 or simulation.start is not None:
        anchor = config.state_dir / "clock.json"  # a restart continues the simulated timeline
        clock = ScaledClock(simulation.speed, simulation.start, anchor_file=anchor)
    agent = Agent(config, clock=clock)
    agent.install_signal_handlers()
    return agent.run()


def provision(config: AgentConfig) -> int:
    from gateway_agent.agent import provision_once
    from gateway_agent.client import AgentClient, Outcome
    from gateway_agent.credentials import CredentialStore

    config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    credentials = CredentialStore(config.state_dir)
    if credentials.provisioned:
        print(f"already provisioned (household {credentials.household_id})")
        return 0
    client = AgentClient(config.server_url, config.serial, timeout_s=config.timeout_s)
    result = provision_once(client, credentials, config.claim_code)
    if result.ok and result.value is not None:
        print(f"provisioned: household {result.value.household_id}")
        return 0
    reasons = {
        Outcome.FORBIDDEN: "not claimed yet, or a wrong claim code: try again later",
        Outcome.CONFLICT: "the key was delivered before: an installer must re-provision the box",
    }
    reason = reasons.get(result.outcome, f"{result.status or 'no answer'} {result.error}")
    print(f"not provisioned: {reason}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
