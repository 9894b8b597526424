"""Number-plate recognition (issue 8): frames -> plate reads, with models trained here.

Run time (the `recognition` extra): `pipeline` (fast-alpr with the project's `detector` and
OCR files), `reading` (slot probabilities -> text, per-character confidences, alternatives,
multi-frame voting), `errors`. Synthetic data: `plates`, `scenes`, `ocr_data`, `alphabet`.
Training (the `train` extra, never in CI): `train_detector`, `train_ocr`. Models and their
card: `models/`.
"""
