"""Print the calibration table of docs/pathways.md: published figure, source, simulated mean and
95 % intervals, measured with the same code as tests/test_calibration.py.

    .venv/bin/python benchmarks/calibration_table.py [--reps 1000]

The "95 % CI" is the Monte Carlo confidence interval of the long-run mean (how precisely we know
what the model says); the "one cohort" range is the 2.5-97.5 % range of the share in a single
cohort of the size the source describes (how much one real cohort can differ by luck). Every
business-as-usual figure, on its source's clock, is in tests/test_bau_calibration.py (run it as a
script for its table).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import test_calibration as cal  # noqa: E402

from effekt.sim import default_target_groups, replication_seed, simulate  # noqa: E402


def _row(pathway, figure, source, measured, est, spread=True) -> str:
    lo, hi = est.spread() if spread else (float("nan"), float("nan"))
    one = f"{lo:.2f}-{hi:.2f}" if spread else "-"
    return (f"| {pathway} | {figure} | {source} | {measured} | {est.mean:.3f} "
            f"({est.low:.3f}-{est.high:.3f}) | {one} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000, help="replications per pathway")
    ap.add_argument("--seed", type=int, default=cal.ROOT_SEED + 2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = [
        "| pathway | published | source | measured in the model as | simulated mean (95 % CI) "
        "| one cohort, 95 % range |",
        "|---|---|---|---|---|---|",
    ]
    g = cal.replicate(cal.gloppen_world(), cal.gloppen_certified, args.reps, args.seed)
    rows.append(_row("gloppen", "close to 3 of 4 certified (completed cohorts)", "NORCE 2021",
                     "admitted students who got a fagbrev (and the job)", g))
    runs = [cal.gloppen_certified(simulate(cal.gloppen_world(), replication_seed(args.seed, r)))
            for r in range(args.reps)]
    tens = [c for c, a in runs if a == 10]
    p9 = sum(c >= 9 for c in tens) / len(tens)
    rows.append(f"| gloppen | 9 of 10 in the first class certified and in a permanent job "
                f"| KS Inn i jobb (ks.no) | classes of exactly 10 admitted: number certified "
                f"| {sum(tens) / len(tens):.2f} of 10 | P(at least 9 of 10) = {p9:.2f} |")
    k = cal.replicate(cal.kongsberg_world(), cal.kongsberg_in_paid_work, args.reps, args.seed)
    rows.append(_row("kongsberg_kull", "24 of 61 (39 %) of work-training finishers in paid work",
                     "Spekter 2017 (Springbrett)", "finishers employed 26 weeks after finishing", k))
    f = cal.replicate(cal.fjell_world(), cal.fjell_in_work, args.reps, args.seed)
    rows.append(_row("fjell_project_jobs", "9 of 10 starters in work", "IMDi 2020",
                     "starters employed 156 weeks after the start", f))
    for group in ("A", "B", "C", "D", "R"):
        n_reps = max(1, args.reps // 100)
        e = cal.replicate(cal.bau_world(group), lambda t, g=group: cal.bau_entered_work(t, g),
                          n_reps, args.seed)
        tg = default_target_groups()[group]
        published = (f"rate {tg.bau_entry_rate:g}/yr, sd {tg.employability_sd:g}: "
                     f"1-E[exp(-rate f(z))] = {cal.entered_within_a_year(tg):.3f}")
        source = ("target_groups.toml (calibrated to SSB, rows below)" if group == "R"
                  else "target_groups.toml (assumption)")
        rows.append(_row(f"business as usual, group {group}", published, source,
                         "control arm: entered work within 52 weeks of entering the labour market "
                         "out of work", e, spread=False))
    s = cal.replicate(cal.bau_world("R"), lambda t: cal.bau_employed_at(t, "R"),
                      max(1, args.reps // 100), args.seed)
    rows.append(_row("business as usual, group R", "47 % employed a year after leaving (2021 leavers)",
                     "SSB", "control arm: employed 52 weeks after leaving the introduction programme", s,
                     spread=False))
    s = cal.replicate(cal.bau_world("R", horizon_weeks=470),
                      lambda t: cal.bau_employed_at(t, "R", at_weeks=260),
                      max(1, args.reps // 100), args.seed)
    rows.append(_row("business as usual, group R", "43 % of all 2005-2019 leavers employed in 2020; "
                     "a cohort levels off at up to 60 %", "SSB",
                     "control arm: employed 260 weeks after leaving the introduction programme", s,
                     spread=False))
    print("\n".join(rows))
    print(f"\n{args.reps} replications per pathway (business as usual: {max(1, args.reps // 100)} x "
          f"4000 people per group), seed {args.seed}, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
