"""``Pathway.stage_order()``: the one walk of the stage graph, checked against an order written out
by hand from ``sim/pathways/gloppen.toml``."""

from __future__ import annotations

from effekt.sim import load_pathway

# Breadth first from application_interview, each stage's exits in file order (with a limited
# exit's `otherwise` right after it), then `next`; the exit stages after all the others.
GLOPPEN_WORKING = {
    "application_interview": 0,
    "practice_period": 1,
    "year1_vocational": 2,
    "years2_3_language_practice": 3,
    "year4_vocational": 4,
    "fagprove": 5,
    "retake_preparation": 6,   # fagprove's exit
    "helsefagarbeider": 6,     # fagprove's next
}
GLOPPEN_ENDS = {
    "not_selected": 1,
    "not_admitted": 2,
    "dropped_out": 3,          # first reached from year1_vocational
    "moved_away": 4,
    "no_fagbrev": 6,           # fagprove's retake limit leads there directly (otherwise)
}


def test_stage_order_of_gloppen_is_the_hand_written_one():
    order = load_pathway("gloppen").stage_order()
    assert list(order.items()) == list(GLOPPEN_WORKING.items()) + list(GLOPPEN_ENDS.items())


def test_stage_order_without_the_exit_stages():
    order = load_pathway("gloppen").stage_order(exits=False)
    assert list(order.items()) == list(GLOPPEN_WORKING.items())


def test_stage_order_names_every_stage_once():
    pw = load_pathway("kongsberg_kull")
    order = pw.stage_order()
    assert sorted(order) == sorted(pw.stages)
    assert list(order)[0] == "referral_interview" and order["referral_interview"] == 0
