"""Reading customer files for `memberbase import`: CSV and JSON Lines, as v1.1 items."""
