"""Software updates under UN Regulation No. 156: what each vehicle runs (per ECU, with its RXSWINs), its
history, update campaigns and the state of every vehicle in them, and the per-type record the R156
requirement of the regulation packs takes as evidence. See docs/software-updates.md."""
