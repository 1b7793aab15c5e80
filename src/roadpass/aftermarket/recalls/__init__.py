"""Recall campaigns to completion: scope resolved through where-used, notices per market, remedy completion
from service records, and authority reports (49 CFR Part 573, Reg. (EU) 2018/858, China's SAMR filing)."""
