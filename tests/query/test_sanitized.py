"""The C extension built with AddressSanitizer and UndefinedBehaviorSanitizer runs the query tests.

A read out of bounds, a use of a freed object or undefined behaviour in app/query/_native.c fails
this test. The extension is compiled into a temporary directory, and a subprocess (the sanitizer
runtime preloaded, since the interpreter itself is not instrumented) loads it as
app.query._native, checks that it is that build, and runs tests/query with pytest: the tests
compare C with Python on fixed and on generated input (test_native_fuzz.py). Without a compiler
or a sanitizer runtime the test skips, and fails under CI=true (tests/ci.py). docs/native.md
says how to do the same by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.ci import unavailable

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "app" / "query" / "_native.c"
FLAGS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined", "-g", "-O1"]
# Sanitizer reports; any of them in the output fails the test even if the exit status hid it.
REPORTS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer", "Sanitizer CHECK failed")
# The run is bounded to about a minute of CPU: the exhaustive code-point comparisons already
# ran uninstrumented, and their C paths are covered here by the generated text.
DESELECT = ["tests/query/test_native.py::test_cjk_pairs_agree_on_every_code_point"]
TIMEOUT_S = 600

# Run in the subprocess: load the sanitized build under the extension's own name, before app.query
# looks for it, then run pytest with the remaining arguments.
BOOTSTRAP = """
import importlib.util, sys
path = sys.argv[1]
spec = importlib.util.spec_from_file_location("app.query._native", path)
module = importlib.util.module_from_spec(spec)
sys.modules["app.query._native"] = module
spec.loader.exec_module(module)
from app.query import index, native
assert native.native is module and module.__file__ == path and index.NATIVE, "not the sanitized build"
print("sanitized build in use:", path, flush=True)
import pytest
sys.exit(pytest.main(sys.argv[2:]))
"""


def compiler() -> tuple[str, list[str], str]:
    """The compiler, its extra flags and the sanitizer runtime to preload (gcc first, then clang)."""
    choices = (("gcc", [], "libasan.so"), ("clang", ["-shared-libasan"], "libclang_rt.asan-x86_64.so"))
    for name, extra, runtime in choices:
        path = shutil.which(name)
        if path is None:
            continue
        found = subprocess.run([path, f"-print-file-name={runtime}"], capture_output=True, text=True).stdout.strip()
        if os.path.isabs(found) and os.path.exists(found):
            return path, extra, os.path.realpath(found)
    unavailable("no gcc or clang with an AddressSanitizer runtime")


def build(into: Path) -> Path:
    """Compile _native.c with the sanitizers into `into`; the path of the module."""
    cc, extra, _ = compiler()
    target = into / ("_native" + sysconfig.get_config_var("EXT_SUFFIX"))
    command = [cc, *FLAGS, *extra, "-shared", "-fPIC", f"-I{sysconfig.get_paths()['include']}", str(SOURCE),
               "-o", str(target)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        if "sanitize" in done.stderr and ("cannot find" in done.stderr or "unsupported" in done.stderr):
            unavailable(f"the sanitizer libraries are missing: {done.stderr[-500:]}")
        pytest.fail(f"the sanitized build failed:\n{done.stderr}")
    assert b"__asan_init" in target.read_bytes(), "the module was built without AddressSanitizer"
    return target


def run_sanitized(module: Path, *pytest_args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a subprocess that has the sanitizer runtime preloaded and imports `module`.
    pytest captures sys.stderr only (--capture=sys), so that the sanitizers' reports, written
    to file descriptor 2 by a run they halt, reach our output."""
    _, _, runtime = compiler()
    env = {
        **os.environ,
        "LD_PRELOAD": runtime,
        # the interpreter frees little at exit: its allocations are not our leaks
        "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=86",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=87",
        "PYTHONMALLOC": "malloc",  # every object from malloc, so ASan sees the bounds of each
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("REPOSTER_PURE_PYTHON", None)
    command = [sys.executable, "-c", BOOTSTRAP, str(module), "--capture=sys", *pytest_args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


def test_the_query_tests_pass_under_address_and_undefined_behaviour_sanitizers(tmp_path):
    module = build(tmp_path)
    args = ["-x", "-p", "no:cacheprovider", "tests/query", f"--ignore={Path(__file__).relative_to(ROOT)}"]
    done = run_sanitized(module, *args, *(f"--deselect={test}" for test in DESELECT))
    output = done.stdout + done.stderr
    assert "sanitized build in use: " + str(module) in done.stdout, output[-3000:]
    found = [output.find(report) for report in REPORTS if report in output]
    assert not found, output[min(found, default=0):][:6000]  # the first report, from its start
    assert done.returncode == 0, output[-6000:]
