"""Runs inside the test stack image: judge each variant with the stack's real vLLM, the way the vLLM backend
hands model.json to it (``json.load`` of the file opened as text, ``AsyncEngineArgs(**model_json)``), then
vLLM's own validation: ``create_engine_config()`` (model config, max_model_len, dtype, cache, parallel config).

    python3 judge.py WORKDIR      # reads WORKDIR/variants.json, writes WORKDIR/real.json
"""

import json
import signal
import sys
import time


class Timeout(Exception):
    pass


def _alarm(_sig, _frame):
    raise Timeout("no answer in 60 s")


def main(work):
    from vllm.engine.arg_utils import AsyncEngineArgs

    with open(f"{work}/variants.json") as handle:
        variants = json.load(handle)
    out = {}
    signal.signal(signal.SIGALRM, _alarm)
    for v in variants:
        start = time.time()
        path = f"{work}/repo/{v['name']}/1/model.json"
        signal.alarm(60)
        try:
            with open(path) as handle:  # as the backend: text mode, the locale's UTF-8
                args = json.load(handle)
            if not isinstance(args, dict):
                raise TypeError(f"argument after ** must be a mapping, not {type(args).__name__}")
            AsyncEngineArgs(**args).create_engine_config()
            out[v["name"]] = {"ok": True, "error": "", "seconds": round(time.time() - start, 3)}
        except BaseException as exc:  # noqa: BLE001 - every failure is an outcome
            out[v["name"]] = {
                "ok": False,
                "error": f"{type(exc).__name__}: {str(exc)[:600]}",
                "seconds": round(time.time() - start, 3),
            }
        finally:
            signal.alarm(0)
        print(v["name"], out[v["name"]]["ok"], out[v["name"]]["error"][:120], flush=True)
    with open(f"{work}/real.json", "w") as handle:
        json.dump(out, handle, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
