"""Write-side services: the only code that creates or changes dataset records outside plain admin CRUD.

HackSoft style: ``<entity>_<action>`` names, keyword-only typed arguments, ``@transaction.atomic`` on writes.
One module per area: :mod:`deals.services.sources` (source texts and quotes), :mod:`deals.services.dataset`
(loading the fixtures), :mod:`deals.services.evidence` (the values each quote states).
"""
