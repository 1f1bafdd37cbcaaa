"""The built-in examples that pair the two lower layers: each Norwegian pathway of ``effekt.sim``
with the contract template of ``effekt.contracts`` written for its stages.

Neither lower layer may know the other's files (contracts reads only sim's record schemas), so the
pairing lives here, in the layer that knows both. Tests and benchmarks run these pairs together;
``tests/test_contracts_pathways.py`` checks that every built-in pathway has its template and that
the template's stage names exist in the pathway.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

PATHWAY_TEMPLATES: Final = MappingProxyType({
    "kongsberg_kull": "kongsberg_outcomes",
    "gloppen": "gloppen_outcomes",
    "fjell_project_jobs": "fjell_project_jobs_outcomes",
    "baerum_pilot": "baerum_pilot_outcomes",
    "lyngdal_en_av_mange": "lyngdal_en_av_mange_outcomes",
    "enkla_jobb": "enkla_jobb_outcomes",
    "naroy_sector_practice": "municipal_jobs_outcomes",
    "bodo_matched_practice": "municipal_jobs_outcomes",
    "lindesnes_benefit_and_part_post": "municipal_jobs_outcomes",
    "asker_askersjansen": "municipal_jobs_outcomes",
    "track1_life_experience_posts": "municipal_jobs_outcomes",
    "track4_trainee": "municipal_jobs_outcomes",
    "track3_municipal_enterprise": "municipal_jobs_outcomes",
    "kommune_tracks_combined": "municipal_jobs_outcomes",
})
"""Built-in pathway name (``effekt.sim.builtin_names``) -> the name of the contract template
written for its stages (``effekt.contracts.template_names``); read-only."""
