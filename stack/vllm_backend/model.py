"""A Python-based Triton backend named ``vllm`` for the local test stack, on vLLM's V1 async engine.

It speaks the interface of triton-inference-server/vllm_backend as users meet it: engine arguments from
``<model>/<version>/model.json`` passed to ``AsyncEngineArgs(**model_json)``; inputs ``text_input``,
``stream``, ``sampling_parameters`` (a JSON string), ``exclude_input_in_output``; output ``text_output``;
decoupled responses; since 24.12, each streamed response carries the delta. Request parameters of the
generate endpoints become sampling parameters. Auto-complete sets ``max_batch_size: 0`` and the decoupled
policy through the Python backend's own utilities, so misconfigurations fail with Triton's real messages.

Written for triton-doctor's tests (no code of the real backend is copied). The traps of running vLLM in
the Python backend stub (see the project's harness notes) are handled at the top of ``initialize``.
"""

import asyncio
import json
import locale
import multiprocessing
import os
import threading

import numpy as np
import triton_python_backend_utils as pb_utils

INPUTS = [
    {"name": "text_input", "data_type": "TYPE_STRING", "dims": [1]},
    {"name": "stream", "data_type": "TYPE_BOOL", "dims": [1], "optional": True},
    {"name": "sampling_parameters", "data_type": "TYPE_STRING", "dims": [1], "optional": True},
    {"name": "exclude_input_in_output", "data_type": "TYPE_BOOL", "dims": [1], "optional": True},
]
OUTPUTS = [{"name": "text_output", "data_type": "TYPE_STRING", "dims": [-1]}]


def _scalar(request, name, default=None):
    tensor = pb_utils.get_input_tensor_by_name(request, name)
    if tensor is None:
        return default
    value = tensor.as_numpy().reshape(-1)[0]
    return value.decode("utf-8") if isinstance(value, bytes) else value


class TritonPythonModel:
    @staticmethod
    def auto_complete_config(auto_complete_model_config):
        for spec in INPUTS:
            try:
                auto_complete_model_config.add_input(spec)
            except ValueError:
                pass
        for spec in OUTPUTS:
            try:
                auto_complete_model_config.add_output(spec)
            except ValueError:
                pass
        auto_complete_model_config.set_max_batch_size(0)
        auto_complete_model_config.set_model_transaction_policy({"decoupled": True})
        return auto_complete_model_config

    def initialize(self, args):
        # The stub's embedded interpreter starts with an ASCII locale; torch's imports need UTF-8.
        locale.setlocale(locale.LC_ALL, "C.UTF-8")
        # vLLM spawns its EngineCore with sys.executable, which in the stub is not this Python.
        multiprocessing.set_executable("/usr/bin/python3")
        self.logger = pb_utils.Logger
        self.model_config = json.loads(args["model_config"])
        decoupled = pb_utils.using_decoupled_model_transaction_policy(self.model_config)
        assert decoupled, "vLLM Triton backend must be configured to use decoupled model transaction policy"
        path = os.path.join(args["model_repository"], args["model_version"], "model.json")
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"'model.json' containing vllm engine args must be provided in "
                f"'{os.path.join(args['model_repository'], args['model_version'])}'"
            )
        with open(path) as handle:
            engine_args = json.load(handle)

        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        self.engine_args = AsyncEngineArgs(**engine_args)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.engine = AsyncLLM.from_engine_args(self.engine_args)
        self.ongoing = 0
        self.logger.log_info(f"[vllm] engine started for {engine_args.get('model')}")

    def execute(self, requests):
        for request in requests:
            sender = request.get_response_sender()
            future = asyncio.run_coroutine_threadsafe(self._generate(request, sender), self.loop)
            future.add_done_callback(lambda f: f.exception())
        return None

    def _sampling(self, request):
        from vllm import SamplingParams

        params = {}
        raw = _scalar(request, "sampling_parameters")
        if raw:
            params.update(json.loads(raw))
        request_params = request.parameters()
        if request_params:
            params.update(json.loads(request_params))
        try:
            return SamplingParams(**params)
        except Exception as exc:
            self.logger.log_warn(f"[vllm] Was trying to create `TritonSamplingParams`, but got exception: {exc}")
            raise

    async def _generate(self, request, sender):
        final = pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL
        try:
            prompt = _scalar(request, "text_input")
            stream = bool(_scalar(request, "stream", False))
            exclude = _scalar(request, "exclude_input_in_output", None)
            if stream and exclude is not None and not bool(exclude):
                raise ValueError("When streaming, `exclude_input_in_output` = False is not allowed.")
            exclude = True if stream else bool(exclude) if exclude is not None else False
            sampling = self._sampling(request)
            request_id = f"td-{id(request)}"
            sent = ""
            last = None
            async for output in self.engine.generate(prompt, sampling, request_id):
                last = output
                if stream:
                    text = output.outputs[0].text
                    delta = text[len(sent):]
                    sent = text
                    if delta and not output.finished:
                        sender.send(self._response(delta))
            text = last.outputs[0].text if last is not None else ""
            if stream:
                sender.send(self._response(text[len(sent):]), flags=final)
            else:
                sender.send(self._response(text if exclude else prompt + text), flags=final)
        except Exception as exc:
            self.logger.log_error(f"[vllm] Error generating stream: {exc}")
            error = pb_utils.InferenceResponse(output_tensors=[], error=pb_utils.TritonError(
                f"Error generating stream: {exc}"))
            sender.send(error, flags=final)

    @staticmethod
    def _response(text):
        tensor = pb_utils.Tensor("text_output", np.asarray([text.encode("utf-8")], dtype=np.object_))
        return pb_utils.InferenceResponse(output_tensors=[tensor])

    def finalize(self):
        try:
            self.engine.shutdown()
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
