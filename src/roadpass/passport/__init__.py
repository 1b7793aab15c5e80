"""EU battery passport (Reg. (EU) 2023/1542 Art. 77, Annex XIII) in the Battery Pass v1.2 data model.

Domain and services, no storage or HTTP: persistence is reached through the ports in ``ports`` (implemented
by ``roadpass.store``, wired by ``roadpass.bootstrap``). Modules:

* ``schemas``: the seven section schemas, read in place, and validation with JSON paths;
* ``models``: pydantic models generated from those schemas (``scripts/generate_passport_models.py``);
* ``domain``: :class:`~roadpass.passport.domain.BatteryPassport` and its vocabularies;
* ``longlist`` / ``attribute_paths``: the attribute long-list and where each attribute lives;
* ``access``: who may see what (Art. 77(2)); ``completeness``: what is still missing;
* ``health``: state of health; ``lifecycle``: status changes; ``carrier``: the QR code;
* ``importing``: consortium-format import (with reported normalisation) and export;
* ``market``: putting into service and placing on the market, from containments in sold vehicles;
* ``records`` / ``ports``: what persistence hands over, and what the services ask of it;
* ``service`` (with ``import_store``): the passport service; ``epr``: producer responsibility;
  ``demo``: passports and producer responsibility on the demo fleet.
"""
