#!/usr/bin/env python3
"""Analytic and discrete-event step times of one scenario agree within a relative tolerance when
nothing contends (issue 3). A scenario whose fabric is oversubscribed is expected to differ: the
analytic backend warns that it ignores oversubscription, and then the DES must be the slower one.

usage: agreement.py ANALYTIC_GOLDEN DES_GOLDEN TOLERANCE

The two golden files are the results the golden tests check the binary against, so each
(slow) discrete-event run happens once in the suite.
"""
import json
import sys

analytic_file, des_file, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
a, d = json.load(open(analytic_file)), json.load(open(des_file))
scenario = a["scenario"]
if not a["feasible"]:
    sys.exit(f"FAIL: {scenario} is not feasible: {a['infeasible']}")
ta, td = a["step_time_s"], d["step_time_s"]
err = (td - ta) / ta
contended = any("oversubscription" in w for w in a["warnings"])
print(f"{scenario}: analytic {ta:.6g} s, des {td:.6g} s, des/analytic - 1 = {100 * err:+.3f}%"
      + (" (oversubscribed fabric)" if contended else ""))
if contended:
    sys.exit(0 if td >= ta * (1 - tol) else "FAIL: the DES is faster than the contention-free analytic bound")
sys.exit(0 if abs(err) <= tol else f"FAIL: |{100 * err:.3f}%| > {100 * tol}%")
