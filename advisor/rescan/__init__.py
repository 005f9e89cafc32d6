"""Close the loop on the user's own server: plan and run nmap.

* :mod:`advisor.rescan.original` reads what a rescan starts from (a scan or a JSON report);
* :mod:`advisor.rescan.plan` builds the nmap command that looks again at exactly the
  hosts, ports and scripts that had findings, and refuses anything beyond them;
* :mod:`advisor.rescan.profiles` holds the commands ``advisor scan`` recommends;
* :mod:`advisor.rescan.run` runs nmap (argument vector, timeout, atomic XML);
* :mod:`advisor.rescan.nmapdata` holds what advisor knows about nmap's data files and TLS
  port rules.
"""

from advisor.rescan.original import Original, OriginalError, read_original
from advisor.rescan.plan import (
    Command,
    NothingToRecheck,
    NotRechecked,
    Plan,
    PlanRefused,
    build_plan,
    mark_not_rechecked,
)
from advisor.rescan.profiles import PROFILES, Profile, ProfileError, profile_command
from advisor.rescan.run import DEFAULT_TIMEOUT, NmapError, NmapRun, find_nmap, run_nmap

__all__ = [
    "DEFAULT_TIMEOUT",
    "PROFILES",
    "Command",
    "NmapError",
    "NmapRun",
    "NotRechecked",
    "NothingToRecheck",
    "Original",
    "OriginalError",
    "Plan",
    "PlanRefused",
    "Profile",
    "ProfileError",
    "build_plan",
    "find_nmap",
    "mark_not_rechecked",
    "profile_command",
    "read_original",
    "run_nmap",
]
