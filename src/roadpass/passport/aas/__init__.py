"""The battery passport as an Asset Administration Shell (IDTA 02035 "Digital Battery Passport", parts 1-7).

``templates`` reads the IDTA submodel templates in place and the mapping (data); ``export`` builds a
passport view's shell and submodels with the Eclipse BaSyx Python SDK and writes JSON and AASX;
``values`` is the ValueOnly serialisation; ``product_condition`` checks and applies a Product Condition
submodel from another system; ``service`` ties them to the passport service.
"""
