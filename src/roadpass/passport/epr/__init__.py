"""Extended producer responsibility for batteries (Reg. (EU) 2023/1542 Chapter VIII).

* ``targets``: the Regulation's collection, recycling-efficiency, material-recovery and recycled-content
  targets, as cited data (``targets.yaml``);
* ``events``: collection (CBV ``collecting``) and recycling (TransformationEvent) as EPCIS 2.0 documents;
* ``service``: producer registrations, collection and recycling through the real capture path;
* ``report``: the per producer, member state and year report (JSON, HTML with a chart, PDF).
"""
