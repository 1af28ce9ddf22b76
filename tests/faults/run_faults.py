#!/usr/bin/python3
"""Strata's fault suite: `strata verify` against a 3-broker cluster while a
nemesis injects faults, one configuration per run.

    sudo /usr/bin/python3 tests/faults/run_faults.py                 # the quick profile (make test)
    sudo /usr/bin/python3 tests/faults/run_faults.py --profile long  # >= 100 faults, figures for docs/RELIABILITY.md
    sudo /usr/bin/python3 tests/faults/run_faults.py --only kill --seed 7 --keep-history

Every run: a private network lab (tests/faults/netlab.py: one namespace per
broker, one for ZooKeeper, verify and this process), a ZooKeeper, 3 brokers,
`strata verify` writing for --duration seconds while faults are injected on a
schedule, everything healed at the end and read back. Safe configurations
(acks=all, idempotence, min.insync.replicas=2, no unclean election) must show no
violation; control configurations must show loss, or the suite says the checker
proved nothing. Exit code 0 when every run came out as its configuration says.

Needs root (namespaces, nftables), Debian's python3 with confluent_kafka, a built
`strata` (STRATA_BIN, default build/strata) and ZooKeeper
(`scripts/install-deps --test`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402
from netlab import NetLab, NetLabUnavailable  # noqa: E402

SAFE = {"acks": "all", "idempotence": True, "min_isr": 2, "unclean": False, "expect": "safe"}

# name -> what the run does and what it must show
CONFIGS = {
    "kill": dict(SAFE, faults=["kill-leader", "kill-controller", "kill-random"],
                 about="kill -9 of the leader, the controller, a random broker; restarted after"),
    "pause": dict(SAFE, faults=["pause-leader"],
                  about="SIGSTOP of a leader past its ZooKeeper session, then SIGCONT"),
    "network": dict(SAFE, faults=["isolate-leader", "partition-leader", "isolate-leader-keep-clients"],
                    about="a leader isolated from everyone, from its followers only, or from followers and "
                          "ZooKeeper while clients still reach it"),
    "zookeeper": dict(SAFE, faults=["kill-zk-leader", "kill-leader"], zk_ensemble=3,
                      about="a 3-member ZooKeeper ensemble losing its leader member; broker leader kills"),
    "disk": dict(SAFE, faults=["disk-full"], small_disk=3,
                 about="broker 3's log dir (a 64 MiB tmpfs) filled to the last byte, then freed and the broker "
                       "restarted"),
    "fsync": dict(SAFE, faults=["failing-fsync"], fiu=3, flush_every_message=True,
                  about="fsync failing with EIO on broker 3 (libfiu), every append fsynced; then fixed and the "
                        "broker restarted"),
    "move": dict(SAFE, faults=["move-partition", "move-kill-controller", "kill-leader"], rf=2,
                 about="partition moves (one replica to the broker without one), some with the controller killed "
                       "mid-move, and leader kills; replication factor 2 over 3 brokers"),
    "control-acks1": dict(acks="1", idempotence=False, min_isr=1, unclean=False, expect="loss",
                          faults=["isolate-leader-keep-clients"],
                          about="acks=1, a leader cut off from followers and ZooKeeper but not from clients: "
                                "what it acknowledges alone is lost"),
    "control-unclean": dict(acks="all", idempotence=False, min_isr=1, unclean=True, expect="loss",
                            faults=["shrink-isr-kill-leader"],
                            about="unclean election after the ISR shrank to the leader, which is then killed"),
}

PROFILES = {
    # make test: every configuration once, short
    "quick": dict(duration=30, runs=1, gap=1.0),
    # docs/RELIABILITY.md: every configuration for 150 s, >= 100 faults in all (about 25 min)
    "long": dict(duration=150, runs=1, gap=1.0),
}


def log(msg: str):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_one(lab: NetLab, name: str, cfg: dict, duration: float, seed: int, gap: float, out_dir: str) -> dict:
    from lab_cluster import LabCluster
    import nemesis

    rng = random.Random(seed)
    topic = f"verify-{name}"
    overrides = {"unclean.leader.election.enable": "true" if cfg["unclean"] else "false"}
    if cfg.get("flush_every_message"):
        overrides["log.flush.interval.messages"] = "1"
    result = {"config": name, "seed": seed, "faults": [], "reaction_s": [], "recovery_s": [], "error": None}
    cluster = LabCluster(lab, brokers=3, overrides=overrides, zk_ensemble=cfg.get("zk_ensemble", 0),
                         small_disk=cfg.get("small_disk", 0), fiu=cfg.get("fiu", 0))
    verify = None
    try:
        summary_path = os.path.join(out_dir, f"{name}-{seed}.summary.json")
        history_path = os.path.join(out_dir, f"{name}-{seed}.history.jsonl")
        cmd = [harness.STRATA_BIN, "verify", "--bootstrap-server", cluster.bootstrap, "--topic", topic,
               "--create", "--partitions", "3", "--replication-factor", str(cfg.get("rf", 3)),
               "--min-insync-replicas", str(cfg["min_isr"]),
               "--acks", cfg["acks"], "--idempotence" if cfg["idempotence"] else "--no-idempotence",
               "--producers", "2", "--rate", "400", "--duration", str(duration),
               "--delivery-timeout-ms", "60000", "--drain-timeout", "90",
               "--summary-json", summary_path, "--history", history_path, "--quiet"]
        cmd += os.environ.get("STRATA_FAULTS_VERIFY_ARGS", "").split()  # e.g. "-X debug=eos" to debug a run
        log(f"{name}: {cfg['about']} (seed {seed}, {duration:.0f} s)")
        verify_log = open(os.path.join(out_dir, f"{name}-{seed}.verify.log"), "w")
        verify = subprocess.Popen(cmd, stdout=verify_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  preexec_fn=harness._child_setup)  # dies with this process
        verify_log.close()
        start = time.monotonic()
        cluster.wait_healthy(topic)  # verify created the topic and every replica is in sync
        # Faults only while verify produces, leaving time for the last one to heal.
        while time.monotonic() - start < duration - 8 and verify.poll() is None:
            fault = nemesis.FAULTS[rng.choice(cfg["faults"])](cluster, topic, rng)
            what = fault.inject()
            log(f"  {name}: {what}")
            result["faults"].append(fault.name)
            injected = time.monotonic()
            harness.wait_until(fault.handled, 45, f"the cluster to react to: {what}", interval=0.1)
            result["reaction_s"].append(round(time.monotonic() - injected, 2))
            # The fault lasts at least hold_s (its purpose, not a wait for a condition).
            time.sleep(max(0.0, fault.hold_s() - (time.monotonic() - injected)))
            fault.heal()
            healed = time.monotonic()
            cluster.wait_healthy(topic)
            result["recovery_s"].append(round(time.monotonic() - healed, 2))
            time.sleep(gap * rng.random())  # a random quiet stretch between faults
        rc = verify.wait(timeout=duration + 300)  # delivery timeout, then two drains at most
        result["verify_rc"] = rc
        with open(summary_path) as f:
            result["summary"] = json.load(f)
    except Exception as e:
        result["error"] = f"{type(e).__name__}: {e}"
        sys.stderr.write(cluster.log_tails(30) + "\n")
    finally:
        if verify is not None and verify.poll() is None:
            harness.free_child_cleanup(verify)
        cluster.close()
    return result


def judge(cfg: dict, r: dict) -> tuple[bool, str]:
    if r.get("error"):
        return False, r["error"]
    s = r.get("summary")
    if s is None:
        return False, f"verify exited {r.get('verify_rc')} without a summary"
    if cfg["expect"] == "safe":
        if s["violations"]:
            return False, f"violations: lost={s['lost']} duplicated={s['duplicated']} reordered={s['reordered']} " \
                          f"phantom={s['phantom']} offset_conflicts={s['offset_conflicts']}"
        if not s["read_complete"]:
            return False, "verify could not read everything back (drain timed out)"
        return True, "no violation"
    if s["lost"] == 0:
        return False, "control run showed no loss: the suite could not prove the checker sees loss"
    return True, f"control run lost {s['lost']} acknowledged messages, as expected"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    ap.add_argument("--only", help="comma-separated configurations (default: all): " + ", ".join(CONFIGS))
    ap.add_argument("--seed", type=int, default=None, help="first seed (default: random, printed)")
    ap.add_argument("--duration", type=float, default=None, help="seconds of writing per run (profile's)")
    ap.add_argument("--runs", type=int, default=None, help="runs per configuration (profile's)")
    ap.add_argument("--results", default=None, help="directory for histories and summaries (default: a temp dir, "
                                                    "removed unless a run fails or --keep-history)")
    ap.add_argument("--keep-history", action="store_true")
    args = ap.parse_args()

    prof = PROFILES[args.profile]
    duration = args.duration or prof["duration"]
    runs = args.runs or prof["runs"]
    names = args.only.split(",") if args.only else list(CONFIGS)
    for n in names:
        if n not in CONFIGS:
            ap.error(f"unknown configuration {n!r} (known: {', '.join(CONFIGS)})")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    out_dir = args.results or tempfile.mkdtemp(prefix="strata-faults-")
    os.makedirs(out_dir, exist_ok=True)
    log(f"fault suite: profile {args.profile}, configurations {', '.join(names)}, {runs} run(s) each, "
        f"first seed {seed}, results in {out_dir}")

    # SIGTERM (ctest's timeout, a kill) unwinds like an exception, so every run's
    # finally stops its processes and the lab's namespaces are deleted.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        NetLab.check_available()
    except NetLabUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    lab = NetLab(nodes=5)  # 3 brokers, the client node, the ZooKeeper node (lab_cluster.py)
    lab.up()
    results = []
    try:
        lab.enter(4)  # this process and verify live in the client node
        for k in range(runs):
            for n in names:
                r = run_one(lab, n, CONFIGS[n], duration, seed + k, prof["gap"], out_dir)
                r["ok"], r["verdict"] = judge(CONFIGS[n], r)
                results.append(r)
                log(f"{n} seed {seed + k}: {'PASS' if r['ok'] else 'FAIL'}: {r['verdict']}")
    finally:
        lab.down()

    print_table(results)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    failed = [r for r in results if not r["ok"]]
    if not failed and not args.keep_history and args.results is None:
        import shutil
        shutil.rmtree(out_dir, ignore_errors=True)
    else:
        print(f"histories and summaries: {out_dir}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def print_table(results: list):
    cols = ["config", "seed", "faults", "acked", "lost", "dup", "reord", "phantom", "conflicts", "indet",
            "max unavail s",
            "max recovery s", "verdict"]
    rows = []
    for r in results:
        s = r.get("summary") or {}
        rows.append([r["config"], str(r["seed"]), str(len(r["faults"])), str(s.get("acked", "-")),
                     str(s.get("lost", "-")), str(s.get("duplicated", "-")), str(s.get("reordered", "-")),
                     str(s.get("phantom", "-")), str(s.get("offset_conflicts", "-")),
                     str(s.get("indeterminate", "-")),
                     f"{s['longest_unavailable_ms'] / 1000:.1f}" if "longest_unavailable_ms" in s else "-",
                     f"{max(r['recovery_s']):.1f}" if r["recovery_s"] else "-",
                     "PASS" if r["ok"] else "FAIL"])
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))
    total = {}
    for r in results:
        for f in r["faults"]:
            total[f] = total.get(f, 0) + 1
    print("faults injected: " + (", ".join(f"{k} {v}" for k, v in sorted(total.items())) or "none")
          + f" ({sum(total.values())} in all)")


if __name__ == "__main__":
    sys.exit(main())
