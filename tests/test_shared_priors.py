"""Several numbers that stand for one unknown (``shared = "name"`` in their priors): drawn at the
same quantile in every draw, treated as one parameter by decide and sensitivity (issue 12 review:
five independent employability_sd priors averaged their effect away and split its EVPPI)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from effekt.experiments.analysis import decision as de
from effekt.experiments.analysis import sensitivity as sa
from effekt.experiments.scenario import load_experiment
from effekt.priors import PriorError, draw, parse_prior


def test_priors_of_one_shared_name_are_drawn_at_the_same_quantile_each_by_its_own_distribution():
    a = parse_prior({"lognormal": [0.5, 0.3], "shared": "sd"})
    b = parse_prior({"normal": [10, 2], "shared": "sd"})
    c = parse_prior({"lognormal": [0.5, 0.3]})  # not shared: its own number
    draws = pd.DataFrame(draw({"a": a, "b": b, "c": c}, 400, np.random.default_rng(1)))
    qa = stats.lognorm(0.3, scale=0.5).cdf(draws["a"])
    qb = stats.norm(10, 2).cdf(draws["b"])
    assert np.allclose(qa, qb)  # the same quantile of each
    assert abs(stats.spearmanr(draws["a"], draws["c"]).statistic) < 0.2  # independent
    assert stats.kstest(draws["b"], stats.norm(10, 2).cdf).pvalue > 0.01  # marginals kept


@pytest.mark.parametrize("bad", [3, "", "two words", True])
def test_a_shared_name_must_be_a_name(bad):
    with pytest.raises(PriorError, match="shared: a name"):
        parse_prior({"beta": [2, 2], "shared": bad})


def test_the_groups_employability_spreads_are_one_unknown_in_the_default_scenario():
    exp = load_experiment(None, ["design.parameters.draws=8"])
    spreads = pd.DataFrame(exp.points).filter(like="employability_sd")
    assert spreads.shape[1] == 4 and spreads.nunique().max() == 8  # the kull's four groups, 8 draws
    assert (spreads.nunique(axis=1) == 1).all()  # every group the same in each draw
    base = load_experiment(None).base
    assert {g.employability_sd for g in base.world.groups.values()} == {0.5}  # point value unchanged


def test_decide_values_numbers_drawn_together_as_one():
    rng = np.random.default_rng(4)
    u = rng.random(200)
    params = pd.DataFrame({"a": u, "b": 2 * u + 1, "c": rng.random(200)})
    assert de.drawn_together(params) == {"a (+1 drawn with it)": ["a"], "c": ["c"]}
    money = 1000 * (u - 0.5)[:, None] + rng.normal(0, 1, (200, 4))
    d = de.Draws(policy={}, params=params, money_reps=money, effect_reps=np.zeros_like(money),
                 participants=np.full(200, 10.0), rows=pd.DataFrame(),
                 share_reps=np.full((200, 4, 2), np.nan), points=np.arange(200))
    table = de.evppi_table(d, [0.0])
    assert list(table["parameter"]) == ["a (+1 drawn with it)", "c"]
    alone = de.evppi(params[["a"]].to_numpy(), d.parts(), [0.0])["evppi"][0]
    assert table["evppi"].iloc[0] == pytest.approx(min(alone, de._value(d.parts(), [0.0])["value"][0]))


def test_sensitivity_varies_a_shared_unknown_as_one_parameter():
    exp = load_experiment(None)
    params = sa.prior_params(exp.base.resolved)
    spread = [p for p in params if "employability_sd" in p.key]
    assert len(spread) == 1 and len(spread[0].followers) == 3
    moved = spread[0].with_followers(spread[0].high)
    assert len(moved) == 4 and np.ptp(list(moved.values())) < 1e-12  # the same quantile, the same prior
    seen = []
    sa.evaluate_points(lambda values: seen.append(dict(values)) or 0.0, spread,
                       np.array([[spread[0].low], [spread[0].high]]))
    assert len(seen) == 2 and all(len(v) == 4 and np.ptp(list(v.values())) < 1e-12 for v in seen)
    assert seen[0][spread[0].key] == pytest.approx(spread[0].low)
