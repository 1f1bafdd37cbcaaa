"""The report of a sweep (issue 13, item 9): which design point it shows with its parameter values,
and a view across the points (P(investor loss) and the public NPV by each swept parameter; a grid
figure when two parameters take a few values each). Expected numbers are computed by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from effekt.contracts import common_kpis
from effekt.experiments import report_sweep as rs

PRICE, SLOTS, MULT = "contract.prices.job_sustained", "pathway.capacity.placements.slots", \
    "world.counterfactual.entry_rate_multiplier"


def _runs() -> pd.DataFrame:
    """Four points (price 60 000 / 90 000 x slots 8 / 12, one sampled multiplier each), two
    replications each."""
    rows = []
    loss = {0: [1, 1], 1: [1, 0], 2: [0, 0], 3: [1, 0]}
    npv = {0: [-100.0, -300.0], 1: [0.0, 200.0], 2: [1000.0, 3000.0], 3: [-500.0, 500.0]}
    for p, (price, slots, mult) in enumerate([(60000, 8, 0.8), (60000, 12, 0.9), (90000, 8, 1.1),
                                              (90000, 12, 1.2)]):
        for r in range(2):
            rows.append({"point": p, "replication": r, PRICE: price, SLOTS: slots, MULT: mult,
                         "investor_loss": float(loss[p][r]), "fiscal_npv_total": npv[p][r]})
    return pd.DataFrame(rows)


def test_the_view_across_points_by_hand():
    sw = rs.sweep_runs(_runs(), [PRICE, SLOTS, MULT], common_kpis())
    by_price = rs.by_parameter(sw, PRICE, "en")
    assert list(by_price["label"]) == ["60\u202f000", "90\u202f000"]
    assert list(by_price["loss"]) == [0.75, 0.25]          # (1+1+1+0)/4, (0+0+1+0)/4
    assert list(by_price["public_npv"]) == [-50.0, 1000.0]  # (-100-300+0+200)/4, (1000+3000-500+500)/4
    assert list(by_price["points"]) == [2, 2] and list(by_price["replications"]) == [4, 4]
    # the interval: a bootstrap over the 2 replication seeds (review 14 item 7), not a binomial one
    # on 4 pooled replications: seed 0 loses at both points of price 60 000, seed 1 at one; a
    # resample is {0,0} (mean 1), {1,1} (0.5) or one of each (0.75), {1,1} with chance 1/4
    assert (by_price["loss_low"].iloc[0], by_price["loss_high"].iloc[0]) == (0.5, 1.0)
    by_slots = rs.by_parameter(sw, SLOTS, "nb")
    assert list(by_slots["loss"]) == [0.5, 0.5] and list(by_slots["public_npv"]) == [900.0, 50.0]
    assert rs.grid_parameters(sw, [PRICE, SLOTS, MULT])[:2] == [PRICE, SLOTS]
    loss, npv, per_cell = rs.grid(sw, PRICE, SLOTS)
    assert loss.loc[60000, 8] == 1.0 and loss.loc[90000, 12] == 0.5 and npv.loc[90000, 8] == 2000.0
    assert per_cell == 2.0


def test_a_continuous_parameter_is_cut_in_ranges_of_as_many_points():
    runs = pd.concat([_runs().assign(point=lambda d, k=k: d["point"] + 4 * k,
                                     **{MULT: lambda d, k=k: d[MULT] + k}) for k in range(3)])
    sw = rs.sweep_runs(runs, [PRICE, MULT], common_kpis())
    t = rs.by_parameter(sw, MULT, "en")
    assert len(t) == rs.RANGES and t["points"].sum() == 12 and set(t["points"]) == {3}
    # the lowest three of 0.8, 0.9, 1.1, 1.2, 1.8, ... (three significant digits, formatting.general)
    assert t["label"].iloc[0] == "0.800 to 1.10"


def test_the_point_sentence_names_the_values_readably():
    values = rs.point_values(_runs(), [PRICE, SLOTS, MULT], 1)
    nb = rs.point_sentence(values, 1, 4, "nb")
    assert nb == ("Denne rapporten viser designpunkt 1 av 4 i en parameterstudie: pris per resultat "
                  "«job_sustained» = 60\u00a0000, plasser i «placements» = 12, jobbsjanser uten tiltaket "
                  "(faktor) = 0,900.")
    en = rs.point_sentence(values, 1, 4, "en")
    assert en.startswith("This report shows design point 1 of 4 of a sweep:")


def test_one_point_is_no_sweep():
    assert rs.sweep_runs(_runs()[lambda d: d["point"] == 0], [PRICE], common_kpis()) is None


@pytest.mark.slow
def test_the_report_of_kongsberg_sweep_shows_its_point_and_the_view_across(tmp_path):
    from pathlib import Path

    from effekt.experiments.batch import run_batch
    from effekt.experiments.report import gather, render_html
    from effekt.experiments.scenario import load_experiment
    from effekt.experiments.summary import load_runs

    path = Path(__file__).parents[1] / "experiments" / "scenarios" / "kongsberg_sweep.toml"
    out = tmp_path / "res"
    run_batch(load_experiment(path, ["design.replications=2"], sweep=True), out, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    data = gather(out, point=7, ts_runs=2)
    assert data.points == 48
    assert data.point_values == {k: manifest["points"][7][k] for k in manifest["parameters"]}
    html = render_html(data, "nb", str(out))
    assert "Denne rapporten viser designpunkt 7 av 48" in html
    assert "På tvers av designpunktene" in html and "Etter pris per resultat «job_sustained»" in html
    assert html.count('src="data:image/png;base64,') == len([c for c in html.split("<figure>")]) - 1
    # the pooled P(loss) at the price 60 000 equals the share of all its replications, by pandas
    runs = load_runs(out)
    expected = runs.loc[runs[PRICE] == 60000, "investor_loss"].mean()
    t = rs.by_parameter(data.sweep, PRICE, "nb")
    assert t["loss"].iloc[0] == pytest.approx(expected)
    assert "This report shows" not in html and np.isfinite(t["public_npv"]).all()


def test_points_sharing_seeds_get_an_interval_over_the_seeds_not_the_pooled_count():
    """Review 14 item 7: 20 design points with the same 10 seeds, the loss fixed by the seed (seeds
    0, 1, 2 lose everywhere). 200 pooled replications are 10 independent ones: a binomial (Wilson)
    interval on 60 of 200 would be about 0.24 to 0.37; over the seeds, P(a resample has at most 1
    losing seed of 10) = 0.149 and P(at least 5) = 0.150 (Binomial(10, 0.3)), so the 95 % interval
    reaches 0.1 or below and 0.5 or above."""
    rows = [{"point": p, "replication": r, PRICE: 60000 + 1000 * (p % 2), "investor_loss": float(r < 3),
             "fiscal_npv_total": 0.0} for p in range(20) for r in range(10)]
    sw = rs.sweep_runs(pd.DataFrame(rows), [PRICE], common_kpis(), seed=7)
    t = rs.by_parameter(sw, PRICE, "en")
    assert list(t["loss"]) == [0.3, 0.3] and list(t["replications"]) == [100, 100]
    assert (t["loss_low"] <= 0.1).all() and (t["loss_high"] >= 0.5).all()
    # one bootstrap for every row and table, from the experiment's stream: the same each time
    again = rs.by_parameter(rs.sweep_runs(pd.DataFrame(rows), [PRICE], common_kpis(), seed=7), PRICE, "en")
    assert again.equals(t) and t["loss_low"].iloc[0] == t["loss_low"].iloc[1]


def test_the_root_seed_is_read_from_the_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"root_seed": 1234}), encoding="utf-8")
    assert rs.root_seed(tmp_path) == 1234 and rs.root_seed(tmp_path / "none") == 0
