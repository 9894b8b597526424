"""A detector export made size-free (issue 25): `plate_detector.onnx` takes 256 x 256 only
(ultralytics' export baked the attention block's reshapes and the 1,344 anchors of that
size into constants). This rewrites such an export, same weights, into a model of any
height and width that are multiples of 32, whose outputs are the raw heads (box
distributions and class logits per stride) instead of decoded boxes, which
`plate_recognition.heads` decodes for whatever grid the frame gives.
`train_frame_detector` runs it on its export (`plate_frame_detector.onnx`); by hand, on the
256 px detector (how its weights were measured on whole frames, docs/recognition.md):

    python -m plate_recognition.heads_export   # -> plate_recognition/runs/plate_detector_heads.onnx

Needs `onnx` (the `train` extra).
"""

from __future__ import annotations

import argparse
from pathlib import Path

MODELS = Path(__file__).resolve().parent / "models"
SOURCE = MODELS / "plate_detector.onnx"
TARGET = MODELS.parent / "runs" / "plate_detector_heads.onnx"
ATTN = "/model.10/m/m.0/attn"
ATTN_INPUT = "/model.10/Split_output_1"  # the attention block's input: B x C x H x W
# per stride 8, 16, 32: (box distribution conv, class logit conv)
HEADS = tuple(
    (f"/model.23/cv2.{i}/cv2.{i}.2/Conv_output_0", f"/model.23/cv3.{i}/cv3.{i}.2/Conv_output_0")
    for i in range(3)
)


def convert(source: Path, target: Path) -> None:
    import onnx  # noqa: PLC0415 (the train extra, not needed at run time)
    from onnx import helper, numpy_helper  # noqa: PLC0415

    model = onnx.load(str(source))
    graph = model.graph
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    constants = {n.output[0]: n for n in graph.node if n.op_type == "Constant"}
    shape_name = f"{ATTN}/input_shape"
    after = next(i for i, n in enumerate(graph.node) if ATTN_INPUT in n.output)
    graph.node.insert(
        after + 1, helper.make_node("Shape", [ATTN_INPUT], [shape_name], name=shape_name)
    )
    for node in graph.node:
        if node.op_type != "Reshape" or not node.name.startswith(ATTN):
            continue
        if node.name.endswith("/Reshape"):  # [1, heads, dims, H*W]: the last axis inferred
            const = constants[node.input[1]]
            value = numpy_helper.to_array(const.attribute[0].t).copy()
            value[-1] = -1
            const.attribute[0].t.CopyFrom(numpy_helper.from_array(value))
        else:  # back to B x C x H x W: the block's input shape
            node.input[1] = shape_name
    del graph.value_info[:]
    del graph.output[:]
    for box, cls in HEADS:
        graph.output.extend(
            [
                helper.make_tensor_value_info(box, onnx.TensorProto.FLOAT, [1, 64, None, None]),
                helper.make_tensor_value_info(cls, onnx.TensorProto.FLOAT, [1, 1, None, None]),
            ]
        )
    wanted = {o.name for o in graph.output}
    needed = set(wanted)
    kept = []
    for node in reversed(graph.node):  # drop the decoding that followed the heads
        if needed.intersection(node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    used = {name for node in graph.node for name in node.input}
    keep_init = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep_init)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args()
    convert(args.source, args.target)


if __name__ == "__main__":
    main()
