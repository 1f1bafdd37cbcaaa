"""A validated pathway or target group given to a world is not checked again (pydantic runs a
model's own checks again on an instance given for a field: a tenth of loading a sweep, issue 14),
but a copy made without validation, or a group under other benefit kinds, still is."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from effekt import specfile
from effekt.experiments.scenario import load_scenario
from effekt.sim import KINDS_CONTEXT, Pathway, TargetGroup, World
from effekt.specfile import checked_before, mark_checked


def _world_of(world: World, context=None, **replaced) -> World:
    parts = dict(pathway=world.pathway, cohorts=world.cohorts, horizon_weeks=world.horizon_weeks,
                 counterfactual=world.counterfactual, groups=world.groups, benefits=world.benefits,
                 labour_market=world.labour_market)
    return World.model_validate({**parts, **replaced}, context=context)


@pytest.fixture(scope="module")
def world() -> World:
    return load_scenario(None).world


def test_a_validated_pathway_given_to_a_world_is_not_walked_again(world, monkeypatch):
    walks = []
    real = Pathway._timeless_loops
    monkeypatch.setattr(Pathway, "_timeless_loops", lambda self: walks.append(1) or real(self))
    again = _world_of(world)
    assert again.pathway is world.pathway and walks == []
    fresh = Pathway.model_validate(world.pathway.model_dump(by_alias=True))
    assert walks == [1] and checked_before(fresh) and not checked_before(fresh.model_copy())
    _world_of(world, pathway=fresh)
    assert walks == [1]


def test_a_copy_made_without_validation_is_checked_as_any_input(world):
    entry = world.pathway.pathway.entry
    stages = dict(world.pathway.stages)
    del stages[entry]  # the entry stage gone: the graph no longer holds together
    broken = world.pathway.model_copy(update={"stages": stages})
    with pytest.raises(ValidationError, match=f"pathway.entry: no stage named '{entry}'"):
        _world_of(world, pathway=broken)


def test_a_group_is_checked_again_under_other_benefit_kinds(world):
    group = next(iter(world.groups.values()))
    kinds = tuple(k for k in world.benefits if k not in group.benefit)  # the group's own kinds left out
    with pytest.raises(ValidationError, match="benefit kind"):
        TargetGroup.model_validate(group, context={KINDS_CONTEXT: kinds, "benefits_file": "other.toml"})
    # under kinds it may name, it passes (and is the same object)
    same = TargetGroup.model_validate(group, context={KINDS_CONTEXT: tuple(world.benefits),
                                                      "benefits_file": "b.toml"})
    assert same is group


def test_a_mark_belongs_to_its_object_and_its_key_only():
    class Spec:
        pass

    a, b = Spec(), Spec()
    mark_checked(a, "kinds-1")
    assert checked_before(a, "kinds-1")
    assert not checked_before(a, "kinds-2") and not checked_before(b, "kinds-1")
    mark_checked(a, "kinds-2")
    assert checked_before(a, "kinds-1") and checked_before(a, "kinds-2")
    ident = id(a)
    del a  # freed: its entry goes with it, so an object given the same id later is not taken for it
    assert ident not in specfile._CHECKED
