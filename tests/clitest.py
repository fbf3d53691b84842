"""Shared by the CLI test scripts: run sparsim and check its exit code, its output and that it
did not crash; failures are collected, not raised, so one run reports every broken case."""
import subprocess


class Cli:
    def __init__(self, sparsim):
        self.sparsim = sparsim
        self.failures = []

    def run(self, *args, env=None):
        return subprocess.run([self.sparsim, *args], capture_output=True, text=True, env=env)

    def expect(self, args, code, *needles, env=None):
        """sparsim ARGS exits CODE and prints every needle (stdout or stderr), without a crash."""
        r = self.run(*args, env=env)
        if r.returncode != code:
            self.failures.append(f"{args}: exit {r.returncode}, expected {code}\n{r.stderr}")
            return r
        for n in needles:
            if n not in r.stderr and n not in r.stdout:
                self.failures.append(f"{args}: output lacks {n!r}\n{r.stderr}")
        if "terminate called" in r.stderr or "Traceback" in r.stderr:
            self.failures.append(f"{args}: crashed\n{r.stderr}")
        return r
